import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type MachineIdentifierSource =
  | 'windows-machine-guid'
  | 'linux-machine-id'
  | 'linux-dbus-machine-id'
  | 'macos-platform-uuid';

export interface MachineIdentifier {
  identifier: string;
  source: MachineIdentifierSource;
  /**
   * True for identifiers that many machines share (placeholder SMBIOS UUIDs, an uninitialised
   * machine-id). Such a computer ID cannot tell machines apart, so the program should not treat
   * it as one seat's identity (and should expect seat counts to look odd).
   */
  suspicious: boolean;
  reason?: string;
}

/**
 * The computer ID sent to the server: HMAC-SHA256 of the machine's own identifier, keyed with a
 * secret per product. The server never sees the identifier, and the same PC yields unrelated IDs
 * in two products, so the ID does not identify a person or link a PC across products.
 * The identifier is trimmed and lower-cased first so that tools printing it in another case agree.
 */
export function computerIdFrom(machineIdentifier: string, productKey: string | Uint8Array): string {
  return createHmac('sha256', productKey).update(machineIdentifier.trim().toLowerCase(), 'utf8').digest('hex');
}

/** Identifiers that vendors ship unset or that firmware fills with placeholders. */
const KNOWN_JUNK = new Set([
  '03000200-0400-0500-0006-000700080009',
  'uninitialized', // systemd writes this until the first boot completes
  'not settable',
  'not specified',
  'to be filled by o.e.m.',
  'default string',
]);

/** Says why an identifier cannot be trusted to tell machines apart, or undefined when it can. */
export function suspiciousIdentifierReason(identifier: string): string | undefined {
  const normalised = identifier.trim().toLowerCase();
  if (normalised === '') return 'empty identifier';
  if (KNOWN_JUNK.has(normalised)) return 'known placeholder identifier';
  const hexOnly = normalised.replace(/-/g, '');
  // All-zero and all-F UUIDs (and any single repeated digit) are firmware defaults, not identities.
  if (/^([0-9a-f])\1*$/.test(hexOnly)) return 'identifier is one repeated digit';
  return undefined;
}

function describe(identifier: string, source: MachineIdentifierSource): MachineIdentifier {
  const reason = suspiciousIdentifierReason(identifier);
  return { identifier: identifier.trim(), source, suspicious: reason !== undefined, ...(reason ? { reason } : {}) };
}

async function readWindowsMachineGuid(): Promise<MachineIdentifier> {
  const { stdout } = await run('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid'], {
    timeout: 10_000,
    windowsHide: true,
  });
  const match = /MachineGuid\s+REG_SZ\s+(\S+)/i.exec(stdout);
  if (!match) throw new Error('MachineGuid not found in the registry');
  return describe(match[1], 'windows-machine-guid');
}

async function readMacPlatformUuid(): Promise<MachineIdentifier> {
  const { stdout } = await run('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice'], { timeout: 10_000 });
  const match = /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(stdout);
  if (!match) throw new Error('IOPlatformUUID not found in ioreg output');
  return describe(match[1], 'macos-platform-uuid');
}

async function readLinuxMachineId(): Promise<MachineIdentifier> {
  const candidates: Array<[string, MachineIdentifierSource]> = [
    ['/etc/machine-id', 'linux-machine-id'],
    ['/var/lib/dbus/machine-id', 'linux-dbus-machine-id'],
  ];
  let firstSuspicious: MachineIdentifier | undefined;
  for (const [path, source] of candidates) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const found = describe(text, source);
    if (!found.suspicious) return found;
    firstSuspicious ??= found;
  }
  if (firstSuspicious) return firstSuspicious;
  throw new Error('neither /etc/machine-id nor /var/lib/dbus/machine-id is readable');
}

/**
 * Reads this machine's own identifier. Junk identifiers are returned with `suspicious: true`
 * rather than refused, so the program decides (warn, ask support, use a stored random ID).
 */
export async function readMachineIdentifier(platform: NodeJS.Platform = process.platform): Promise<MachineIdentifier> {
  if (platform === 'win32') return readWindowsMachineGuid();
  if (platform === 'darwin') return readMacPlatformUuid();
  return readLinuxMachineId();
}

/** The usual pairing: this machine's identifier turned into the product's computer ID. */
export async function machineComputerId(
  productKey: string | Uint8Array,
): Promise<{ computerId: string } & MachineIdentifier> {
  const machine = await readMachineIdentifier();
  return { ...machine, computerId: computerIdFrom(machine.identifier, productKey) };
}
