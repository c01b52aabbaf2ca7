import { ImapFlow } from 'imapflow';
import type { ImapConfig } from '../config/config.js';
import type { Logger } from '../jobs/queue.js';
import type { InboundMessage } from './inbound.js';

/**
 * Optional IMAP polling into the same intake as the SMTP/LMTP listener. Each unseen message is fetched
 * without touching its flags (BODY.PEEK), handed to `deliver` (which commits it to the database), and
 * only then marked \Seen or moved. A crash between the two leaves the message unseen: the next poll
 * delivers it again and the intake skips it by Message-ID, so nothing is lost and nothing is filed twice.
 * The password goes to the server only; it is never logged (imapflow's logger is off).
 */
export interface ImapPollResult {
  /** Unseen messages found in this poll. */
  found: number;
  delivered: number;
  /** Over the intake's size limit: flagged (\Seen \Flagged) in the mailbox for a person, not delivered. */
  tooLarge: number;
  /** Delivery threw: left unseen for the next poll. */
  failed: number;
}

export interface ImapPollOptions {
  log: Logger;
  maxBytes: number;
  deliver: (msg: InboundMessage) => Promise<void>;
  /** At most this many messages per poll, so one poll stays short (the rest wait for the next). */
  batch?: number;
  timeoutMs?: number;
}

export class ImapPollError extends Error {
  constructor(message: string) { super(message); this.name = 'ImapPollError'; }
}

export function imapClient(cfg: ImapConfig, timeoutMs = 30_000): ImapFlow {
  return new ImapFlow({
    host: cfg.host, port: cfg.port, secure: cfg.tls === 'tls',
    // starttls: refuse to log in over a connection that could not be upgraded; none: never try.
    doSTARTTLS: cfg.tls === 'starttls' ? true : cfg.tls === 'none' ? false : undefined,
    auth: { user: cfg.user, pass: cfg.password },
    logger: false, disableAutoIdle: true,
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: 4 * timeoutMs,
  });
}

/** The Return-Path of a stored message: the envelope sender its server recorded ('' for a bounce), or null. */
export function returnPathOf(raw: Buffer): string | null {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const m = /^return-path:[ \t]*<([^<>\r\n]*)>/im.exec(end >= 0 ? head.slice(0, end) : head);
  if (!m) return null;
  const addr = m[1]!.trim();
  return addr === '' || /^[^\s@]{1,64}@[^\s@]{1,190}$/.test(addr) ? addr : null;
}

export async function pollImap(cfg: ImapConfig, recipient: string, opts: ImapPollOptions): Promise<ImapPollResult> {
  const result: ImapPollResult = { found: 0, delivered: 0, tooLarge: 0, failed: 0 };
  const client = imapClient(cfg, opts.timeoutMs);
  // imapflow reports socket trouble as an 'error' event too; the awaited command rejects with it.
  client.on('error', () => { /* handled where the command fails */ });
  try {
    await client.connect();
  } catch (err) {
    client.close();
    const e = err as Error & { authenticationFailed?: boolean; responseText?: string };
    throw new ImapPollError(e.authenticationFailed
      ? `IMAP ${cfg.host}:${cfg.port}: the server refused the user name or password (KEYWARD_IMAP_USER/KEYWARD_IMAP_PASSWORD).`
      : `IMAP ${cfg.host}:${cfg.port}: could not connect (${e.message}).`);
  }
  try {
    if (cfg.moveTo) {
      const boxes = await client.list();
      if (!boxes.some((b) => b.path === cfg.moveTo)) await client.mailboxCreate(cfg.moveTo);
    }
    const lock = await client.getMailboxLock(cfg.mailbox);
    try {
      const found = await client.search({ seen: false }, { uid: true });
      if (!Array.isArray(found)) throw new ImapPollError(`IMAP ${cfg.host}: could not search the mailbox ${cfg.mailbox}.`);
      const uids = [...found].sort((a, b) => a - b);
      result.found = uids.length;
      for (const uid of uids.slice(0, opts.batch ?? 200)) {
        const meta = await client.fetchOne(String(uid), { uid: true, size: true }, { uid: true });
        if (!meta) continue; // expunged meanwhile
        if ((meta.size ?? 0) > opts.maxBytes) {
          await client.messageFlagsAdd(String(uid), ['\\Seen', '\\Flagged'], { uid: true });
          opts.log.warn({ imapUid: uid, size: meta.size }, 'IMAP message over the intake size limit; left flagged in the mailbox');
          result.tooLarge++;
          continue;
        }
        const full = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
        if (!full || !full.source) continue;
        try {
          await opts.deliver({ raw: full.source, mailFrom: returnPathOf(full.source), rcptTo: [recipient], remoteAddress: `imap:${cfg.host}` });
        } catch (err) {
          result.failed++;
          opts.log.error({ imapUid: uid, err: (err as Error).message }, 'IMAP message could not be delivered; it stays unseen for the next poll');
          continue;
        }
        // Only now, with the message committed, does the mailbox learn it was handled.
        if (cfg.moveTo) await client.messageMove(String(uid), cfg.moveTo, { uid: true });
        else await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        result.delivered++;
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  if (result.failed) throw new ImapPollError(`IMAP ${cfg.host}: ${result.failed} message(s) could not be delivered and will be tried again.`);
  return result;
}
