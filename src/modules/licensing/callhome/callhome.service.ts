// The call-home use cases: read a snapshot, let the pure rules decide, store what they say.
// Validation is a read. A decision that takes a seat, records a new machine or changes a status is
// re-decided and written inside a transaction that holds the licence (so two new machines cannot both
// take the last seat) and is committed before the answer goes out; a plain refresh is batched.

import type { Kernel } from '../../../kernel/context.js';
import { evaluate, evaluateLicenceFile, type MachineWrite, type Decision, type LicenceFileDecision, type LicenceFileFoundDecision } from '../validation/evaluate.js';
import { licenceKeyHasher } from '../validation/keys.js';
import type { CallhomeRequest, LicenceFileRequest } from '../validation/parse-request.js';
import type { Snapshot } from '../validation/snapshot.js';
import { loadSnapshot, loadSnapshotNow, lockLicence, type LoadedSnapshot, type RecordedUsage } from '../validation/snapshot.repository.js';
import { needsDurableWrite, writeMachine, type CallUsage } from '../machines.repository.js';
import type { Bookkeeper } from './bookkeeping.js';
import type { CatalogCache, ProductCatalog } from './catalog.js';
import { licenceJson } from './answer.js';
import type { SignerHolder } from './signer.js';
import { currentPolicyDefaults, policyDefaultsNow } from '../licensing.settings.js';
import type { Policy } from '../validation/snapshot.js';

/**
 * A refresh that changes nothing but the time within this long of the stored last seen is written
 * lazily: held in the bookkeeping buffer until this long after the stored value, or until someone reads
 * the machines (the admin API writes the buffer first), so an installation that calls in a loop (a
 * misconfigured client, a restart storm, the benchmark) costs one write per machine this often, while
 * every reader of this node still sees its latest call.
 */
export const LAST_SEEN_RESOLUTION_MS = 5 * 60_000;

/**
 * When a refresh must be written: now (0) if it changes anything but the time or the stored last seen
 * is older than the resolution, else when the stored value is that old.
 */
export function touchDueAt(recorded: RecordedUsage | null, now: number, usage: CallUsage, recordsUsage: boolean): number {
  if (recorded === null || recorded.lastSeen === null) return 0;
  if (now - recorded.lastSeen >= LAST_SEEN_RESOLUTION_MS || now < recorded.lastSeen) return 0;
  if (usage.ip !== null && recorded.lastIp !== usage.ip) return 0;
  if (recordsUsage && (recorded.lastVersion !== usage.version || recorded.lastUsersInUse !== (usage.usersInUse ?? null))) return 0;
  return recorded.lastSeen + LAST_SEEN_RESOLUTION_MS;
}

export interface Decided<D> {
  readonly decision: D;
  readonly licenceId: string | null;
  /** The instant the decision was made for (the answer's `ts`). */
  readonly now: number;
}

export interface IssuedLicenceFile {
  readonly text: string;
  readonly expiresAt: Date;
}

export class CallhomeService {
  private readonly hashKey: (key: string) => string;

  constructor(
    private readonly k: Kernel,
    private readonly catalog: CatalogCache,
    private readonly bookkeeper: Bookkeeper,
    private readonly signer: SignerHolder,
  ) {
    // A pepper from the master secret: a copy of the database alone cannot confirm a guessed key.
    this.hashKey = licenceKeyHasher(k.secrets.key('licence-key-hash'));
  }

  keyHash(key: string): string {
    return this.hashKey(key);
  }

  /** Decides a `/callhome` call and stores what the contract allows: machine, version, users, IP. */
  async callhome(req: CallhomeRequest, ip: string): Promise<Decided<Decision>> {
    const now = this.k.clock.now();
    const result = await this.decideAndStore(
      this.keyHash(req.licence), req.computerId, now,
      (s) => evaluate(s, req, new Date(now)),
      { version: req.version, usersInUse: req.usersInUse, ip },
    );
    return this.counted(result, req, ip);
  }

  /**
   * The same decision without waiting, for the common call that changes no seat and no status: on
   * SQLite, with the settings and the product's catalog cached. Undefined when it needs a read or a
   * durable write; nothing is recorded then, and callhome() does the whole call.
   */
  callhomeNow(req: CallhomeRequest, ip: string): Decided<Decision> | undefined {
    const defaults = this.k.dbh.sqlite ? policyDefaultsNow(this.k.settings) : undefined;
    if (!defaults) return undefined;
    // The turn's shared read transaction (kernel/db/turn-reader.ts); the main connection for a database in memory.
    const sqlite = this.k.dbh.turnReader?.connection() ?? this.k.dbh.sqlite;
    if (!sqlite) return undefined;
    const now = this.k.clock.now();
    const at = new Date(now);
    const loaded = loadSnapshotNow(this.k.db, sqlite, this.keyHash(req.licence), req.computerId, at, (id) => this.catalog.peek(id), defaults);
    if (!loaded) return undefined;
    const decision = evaluate(loaded.snapshot, req, at);
    const usage = { version: req.version, usersInUse: req.usersInUse, ip };
    if (loaded.licenceId !== null && decision.machine.kind !== 'none') {
      if (needsDurableWrite(loaded.snapshot.machine, decision.machine, at, loaded.policy)) return undefined;
      this.refresh(loaded, req.computerId, decision.machine, usage, now);
    }
    return this.counted({ decision, licenceId: loaded.licenceId, now }, req, ip);
  }

  /** The call counters and the network, for the dashboards and the abuse signals. */
  private counted(result: Decided<Decision>, req: CallhomeRequest, ip: string): Decided<Decision> {
    const { licenceId, now } = result;
    this.bookkeeper.countCall(licenceId ?? '', licenceId === null ? '' : req.version, licenceId === null ? null : req.usersInUse, now);
    if (licenceId !== null) this.bookkeeper.seeNetwork(licenceId, ip, now);
    return result;
  }

  /** Decides a `/licence-file` request (or a staff one, `ip` null); a file takes a seat as a call does. */
  async licenceFile(req: LicenceFileRequest, ip: string | null): Promise<Decided<LicenceFileDecision> & { file: IssuedLicenceFile | null }> {
    const now = this.k.clock.now();
    const result = await this.decideAndStore(this.keyHash(req.licence), req.computerId, now, (s) => evaluateLicenceFile(s, new Date(now)), { ip });
    if (result.licenceId !== null && ip !== null) this.bookkeeper.seeNetwork(result.licenceId, ip, now);
    const d = result.decision;
    const file = d.code !== 'NOT_FOUND' && d.fileExpiresAt !== null ? this.signLicenceFile(d, req, now, d.fileExpiresAt) : null;
    return { ...result, file };
  }

  /**
   * The offline licence file (spec: "POST /api/v1/licence-file"): Ed25519 over the decoded payload
   * bytes, wrapped in a base64 envelope between BEGIN/END lines.
   */
  private signLicenceFile(found: LicenceFileFoundDecision, req: LicenceFileRequest, now: number, expiresAt: Date): IssuedLicenceFile {
    const payload = Buffer.from(JSON.stringify({
      licence: licenceJson(found.licence),
      computerId: req.computerId,
      nonce: req.nonce,
      issuedAt: new Date(now).toISOString(),
      expiresAt: expiresAt.toISOString(),
    }), 'utf8');
    const envelope = JSON.stringify({ alg: 'ed25519', kid: this.signer.kid, payload: payload.toString('base64'), signature: this.signer.sign(payload) });
    const text = `-----BEGIN KEYWARD LICENCE FILE-----\n${Buffer.from(envelope, 'utf8').toString('base64')}\n-----END KEYWARD LICENCE FILE-----\n`;
    return { text, expiresAt };
  }

  private async decideAndStore<D extends Decision | LicenceFileDecision>(
    keyHash: string,
    computerId: string,
    now: number,
    decide: (s: Snapshot) => D,
    usage: CallUsage,
  ): Promise<Decided<D>> {
    const at = new Date(now);
    // The vendor's policy defaults: the settings cache answers (one read every few seconds per node).
    const defaults = await currentPolicyDefaults(this.k.settings);
    const loaded = await loadSnapshot(this.k.db, keyHash, computerId, at, (id) => this.catalog.get(id), this.k.dbh.sqlite, defaults);
    const decision = decide(loaded.snapshot);
    const m = decision.machine;
    if (loaded.licenceId === null || m.kind === 'none') return { decision, licenceId: loaded.licenceId, now };
    if (!needsDurableWrite(loaded.snapshot.machine, m, at, loaded.policy)) {
      this.refresh(loaded, computerId, m, usage, now);
      return { decision, licenceId: loaded.licenceId, now };
    }
    return this.durably(loaded, keyHash, computerId, at, decide, usage, defaults);
  }

  /**
   * A call that changes no seat and no status: last seen (and usage) through the bookkeeping batch.
   * Every call refreshes last seen (spec: "Which calls touch machines"); one that changes nothing else
   * soon after the last is written lazily (LAST_SEEN_RESOLUTION_MS).
   */
  private refresh(loaded: LoadedSnapshot, computerId: string, m: MachineWrite, usage: CallUsage, now: number): void {
    const records = m.recordsUsage && usage.version !== undefined;
    this.bookkeeper.touchMachine({
      licenceId: loaded.licenceId!, computerId, at: now, ip: usage.ip,
      ...(records ? { version: usage.version, usersInUse: usage.usersInUse } : {}),
    }, touchDueAt(loaded.recorded, now, usage, records));
  }

  /** Re-reads and re-decides while holding the licence, writes, and commits before returning. */
  private async durably<D extends Decision | LicenceFileDecision>(
    first: LoadedSnapshot,
    keyHash: string,
    computerId: string,
    at: Date,
    decide: (s: Snapshot) => D,
    usage: CallUsage,
    defaults: Policy,
  ): Promise<Decided<D>> {
    // The catalog read before stays valid; reading it through the pool inside this transaction
    // would wait forever for SQLite's single connection.
    const catalog: ProductCatalog = { releases: first.snapshot.releases, packs: first.snapshot.content };
    return this.k.db.transaction().execute(async (trx) => {
      await lockLicence(trx, this.k.flags, first.licenceId!);
      const again = await loadSnapshot(trx, keyHash, computerId, at, async () => catalog, undefined, defaults);
      const decision = decide(again.snapshot);
      if (again.licenceId !== null && decision.machine.kind !== 'none') {
        await writeMachine(trx, again.licenceId, computerId, decision.machine, usage, at.getTime());
      }
      return { decision, licenceId: again.licenceId, now: at.getTime() };
    });
  }
}
