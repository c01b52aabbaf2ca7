import crypto from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import createError from '@fastify/error';
import type { Db } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { JobQueue, Logger } from '../jobs/queue.js';
import type { Settings } from '../settings/settings.js';
import { newId } from '../crypto/tokens.js';
import type { Secrets } from '../crypto/secrets.js';
import { withoutAddresses } from '../privacy/log-text.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers (threading, List-Unsubscribe, Auto-Submitted…). */
  headers?: Record<string, string>;
  attachments?: Array<{ filename: string; contentType: string; contentBase64: string }>;
  /** What kind of mail this is ('account', 'invoice', 'support', 'newsletter'…), for the admin and retention. */
  category: string;
  from?: string;
  messageId?: string;
  /**
   * SMTP envelope sender (Return-Path), e.g. a per-recipient bounce address (VERP); defaults to From.
   * '' is the null sender, MAIL FROM:<>, for automatic replies (RFC 3834 §3.3): nothing bounces back to it.
   */
  envelopeFrom?: string;
}

export const SMTP_SETTING = 'mail.smtp';

export const MailNotUncertain = createError('MAIL_NOT_UNCERTAIN', 'This message is not waiting for a decision (it was already sent again or marked delivered).', 409);

/** How long a claimed message may stay in its SMTP conversation before it counts as interrupted. */
export const CLAIM_MS = 5 * 60_000;

/**
 * Whether a failed send certainly delivered nothing: the server answered with a refusal (a 4xx/5xx reply),
 * the message was refused before any connection (bad envelope, too large), or the connection or session
 * could not be set up (refused, DNS, TLS, authentication, connect or greeting timeout). Anything else (the
 * link broke or timed out mid-conversation with no reply) may have come after the server took the message.
 */
export function notDelivered(err: unknown): boolean {
  const e = err as { responseCode?: unknown; code?: string; originalCode?: string; timeoutType?: string; command?: string };
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return true;
  if (['EDNS', 'ETLS', 'EAUTH', 'ENOAUTH', 'EOAUTH2', 'EENVELOPE', 'EMESSAGE', 'EPROXY', 'ECONFIG', 'EREQUIRETLS'].includes(e.code ?? '')) return true;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(e.originalCode ?? (e.code as string) ?? '')) return true;
  if (e.timeoutType === 'CONNECT_TIMEOUT' || e.timeoutType === 'GREETING_TIMEOUT' || e.timeoutType === 'UPGRADE_TIMEOUT') return true;
  return false;
}
export const DKIM_SETTING = 'mail.dkim';

/** The DKIM key as stored: the private key sealed with the deployment's secret, never in clear. */
export interface DkimSetting { domainName: string; keySelector: string; privateKeySealed: string }

/**
 * The headers a DKIM signature covers, named here rather than left to the library's default: RFC 8058
 * one-click unsubscribe only counts when List-Unsubscribe and List-Unsubscribe-Post are both signed.
 */
export const DKIM_SIGNED_HEADERS = 'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:' +
  'Content-Transfer-Encoding:In-Reply-To:References:List-Id:List-Unsubscribe:List-Unsubscribe-Post:Auto-Submitted';

/**
 * Mail goes through an outbox table: the row is written in the caller's transaction, then a job delivers
 * it over SMTP with retries and backoff. With no SMTP configured the mail is held, and staff read it in
 * the admin (and can release it once SMTP is set).
 */
export class Mailer {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
    private readonly settings: Settings,
    private readonly defaults: { smtpUrl?: string; from: string },
    private readonly log: Logger,
    private readonly secrets?: Secrets,
  ) {
    jobs.register('mail.deliver', async (p: { id: string }) => this.deliver(p.id));
  }

  async smtpUrl(db: Db = this.db): Promise<string | undefined> {
    const s = await this.settings.get<{ url?: string } | null>(SMTP_SETTING, null, db);
    return s?.url || this.defaults.smtpUrl;
  }

  async from(db: Db = this.db): Promise<string> {
    const s = await this.settings.get<{ from?: string } | null>(SMTP_SETTING, null, db);
    return s?.from || this.defaults.from;
  }

  async send(mail: OutgoingMail, trx: Db = this.db): Promise<string> {
    const id = newId();
    // Settings are read through `trx`: on SQLite a read through the pool would wait on this very transaction.
    const from = mail.from ?? (await this.from(trx));
    const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
    const smtp = await this.smtpUrl(trx);
    await trx.insertInto('mail_outbox').values({
      id, to_addr: mail.to, from_addr: from, subject: mail.subject, text_body: mail.text, html_body: mail.html ?? null,
      headers: JSON.stringify(mail.headers ?? {}), attachments: JSON.stringify(mail.attachments ?? []), category: mail.category,
      status: smtp ? 'queued' : 'held', attempts: 0, last_error: null,
      message_id: mail.messageId ?? `<${id}@${domain}>`, created_at: this.clock.now(), sent_at: null,
      envelope_from: mail.envelopeFrom ?? null,
    }).execute();
    if (smtp) await this.jobs.enqueue('mail.deliver', { id }, { trx, idempotencyKey: `mail:${id}`, maxAttempts: 10 });
    return id;
  }

  /** Queues every held message for delivery (after SMTP has been configured). */
  async releaseHeld(): Promise<number> {
    if (!(await this.smtpUrl())) return 0;
    const held = await this.db.selectFrom('mail_outbox').select('id').where('status', '=', 'held').execute();
    for (const { id } of held) {
      await this.db.updateTable('mail_outbox').set({ status: 'queued' }).where('id', '=', id).execute();
      await this.jobs.enqueue('mail.deliver', { id }, { idempotencyKey: `mail:${id}`, maxAttempts: 10 });
    }
    return held.length;
  }

  /** The DKIM key to sign with, or null when none is configured (mail then goes out unsigned). */
  private async dkimKey(): Promise<{ domainName: string; keySelector: string; privateKey: string } | null> {
    const d = await this.settings.get<DkimSetting | null>(DKIM_SETTING, null);
    if (!d || !this.secrets) return null;
    return { domainName: d.domainName, keySelector: d.keySelector, privateKey: this.secrets.open('dkim-private-key', d.privateKeySealed).toString('utf8') };
  }

  /** What the admin shows: the signing domain, selector and the DNS record to publish (never the private key). */
  async dkimStatus(): Promise<{ domainName: string; keySelector: string; dnsRecord: string } | null> {
    const key = await this.dkimKey();
    return key ? { domainName: key.domainName, keySelector: key.keySelector, dnsRecord: dkimDnsRecord(key.privateKey) } : null;
  }

  async clearDkim(): Promise<void> {
    await this.settings.delete(DKIM_SETTING);
  }

  /** Stores a DKIM key (PEM, RSA), sealed; returns the DNS TXT record to publish at `<selector>._domainkey.<domain>`. */
  async setDkim(input: { domainName: string; keySelector: string; privateKeyPem: string }, by: string | null): Promise<string> {
    if (!this.secrets) throw new Error('the mailer has no secrets to seal a DKIM key with');
    const key = crypto.createPrivateKey(input.privateKeyPem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('DKIM keys must be RSA');
    const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const value: DkimSetting = { domainName: input.domainName, keySelector: input.keySelector, privateKeySealed: this.secrets.seal('dkim-private-key', pem) };
    await this.settings.set(DKIM_SETTING, value, by);
    return dkimDnsRecord(pem);
  }

  /**
   * Delivers one message, at most once. The message is claimed ('sending', with this worker's id, the time
   * and a lease) in its own committed write just before its own SMTP transaction, so a crash can leave at
   * most this one message in doubt; mail claimed by the job queue but not yet started is still 'queued'
   * and goes out normally. After the server's answer the outcome is recorded: sent, or, when the server
   * refused it (a reply, so nothing was delivered) or the connection could not be made, back to 'queued'
   * for the usual retry with backoff. A conversation that ended with no answer (the link broke after the
   * message may have been handed over), or a claim found expired (its node died mid-conversation), makes
   * the message 'uncertain': held for staff, who can send it again or mark it delivered, never re-sent here.
   */
  private async deliver(id: string): Promise<void> {
    const row = await this.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.status !== 'queued' && row.status !== 'sending' && row.status !== 'held') return;
    if (row.status === 'sending') {
      if ((row.claim_until ?? 0) > this.clock.now()) throw new Error('mail is being sent by another worker; will look again');
      const r = await this.db.updateTable('mail_outbox')
        .set({ status: 'uncertain', last_error: `Interrupted during its SMTP conversation (worker ${row.claimed_by ?? '?'} stopped); not re-sent automatically` })
        .where('id', '=', id).where('status', '=', 'sending').where('claim_until', '=', row.claim_until).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) this.log.warn({ mailId: id, worker: row.claimed_by }, 'mail delivery interrupted mid-conversation; held as uncertain');
      return;
    }
    const url = await this.smtpUrl();
    if (!url) {
      await this.db.updateTable('mail_outbox').set({ status: 'held' }).where('id', '=', id).where('status', '=', 'queued').execute();
      return;
    }
    if (row.status === 'held') return; // released only by releaseHeld(), which queues it
    const dkim = await this.dkimKey();
    const transport = this.transportFor(url);
    // The claim: committed on its own before a byte of this message goes to the server.
    const now = this.clock.now();
    const claimUntil = now + CLAIM_MS;
    const worker = this.jobs.workerId;
    const claimed = await this.db.updateTable('mail_outbox').set({ status: 'sending', claimed_by: worker, claimed_at: now, claim_until: claimUntil })
      .where('id', '=', id).where('status', '=', 'queued').executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return; // another worker took it, or staff acted on it
    const mine = () => this.db.updateTable('mail_outbox').where('id', '=', id).where('claimed_by', '=', worker).where('claim_until', '=', claimUntil);
    let outcome: 'sent' | 'refused' | 'uncertain';
    let error: Error | null = null;
    try {
      await transport.sendMail({
        ...(row.envelope_from !== null ? { envelope: { from: row.envelope_from === '' ? false : row.envelope_from, to: [row.to_addr] } } : {}),
        ...(dkim ? { dkim: { ...dkim, headerFieldNames: DKIM_SIGNED_HEADERS } } : {}),
        from: row.from_addr, to: row.to_addr, subject: row.subject, text: row.text_body, html: row.html_body ?? undefined,
        headers: JSON.parse(row.headers), messageId: row.message_id,
        attachments: (JSON.parse(row.attachments) as OutgoingMail['attachments'])!.map((a) => ({
          filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64'),
        })),
      });
      outcome = 'sent';
    } catch (err) {
      error = err as Error;
      outcome = notDelivered(err) ? 'refused' : 'uncertain';
    }
    if (outcome === 'sent') {
      // Recorded even if the claim was meanwhile marked uncertain: the server did accept it.
      await mine().where('status', 'in', ['sending', 'uncertain'])
        .set({ status: 'sent', sent_at: this.clock.now(), attempts: row.attempts + 1, last_error: null, claim_until: null }).execute();
      return;
    }
    const message = error!.message;
    if (outcome === 'uncertain') {
      await mine().where('status', '=', 'sending')
        .set({ status: 'uncertain', attempts: row.attempts + 1, claim_until: null, last_error: `No answer from the server after the message was handed over: ${message}`.slice(0, 1000) }).execute();
      this.log.warn({ mailId: id, err: withoutAddresses(message) }, 'mail delivery ended without an answer; held as uncertain');
      return;
    }
    await mine().where('status', '=', 'sending')
      .set({ status: 'queued', attempts: row.attempts + 1, claim_until: null, last_error: message.slice(0, 1000) }).execute();
    // The outbox row never carries the recipient into logs: only its id (the job queue logs the error too).
    this.log.warn({ mailId: id, err: withoutAddresses(message) }, 'mail delivery failed; will retry');
    throw error;
  }

  /** Mail whose delivery is in doubt, oldest first, for the admin. */
  uncertain(db: Db = this.db) {
    return db.selectFrom('mail_outbox').select(['id', 'to_addr', 'subject', 'category', 'message_id', 'created_at', 'claimed_at', 'claimed_by', 'last_error'])
      .where('status', '=', 'uncertain').orderBy('claimed_at').limit(500).execute();
  }

  /**
   * Staff decided an uncertain message should go out again: queued once more (same Message-ID, so a
   * recipient's software can recognise a copy it already has). Only from 'uncertain', so a repeated
   * click queues nothing more.
   */
  async sendAgain(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('mail_outbox').set({ status: 'queued', claim_until: null })
        .where('id', '=', id).where('status', '=', 'uncertain').executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new MailNotUncertain();
      await this.jobs.enqueue('mail.deliver', { id }, { trx, idempotencyKey: `mail:${id}:again:${newId()}`, maxAttempts: 10 });
    });
  }

  /** Staff confirmed (for example with the recipient) that an uncertain message did arrive. */
  async markDelivered(id: string): Promise<void> {
    const row = await this.db.selectFrom('mail_outbox').select(['claimed_at']).where('id', '=', id).where('status', '=', 'uncertain').executeTakeFirst();
    const r = await this.db.updateTable('mail_outbox').set({ status: 'sent', sent_at: row?.claimed_at ?? this.clock.now(), claim_until: null })
      .where('id', '=', id).where('status', '=', 'uncertain').executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new MailNotUncertain();
  }

  /**
   * One pooled SMTP connection per server, reused across deliveries: a connection per message costs a
   * handshake and, on many servers, a deliberate greeting delay, which would dominate a newsletter send.
   */
  private pool: { url: string; transport: Transporter } | null = null;

  private transportFor(url: string): Transporter {
    if (this.pool?.url !== url) {
      this.pool?.transport.close();
      // maxRequeues 0: the pool must never re-send a message on its own when a connection closes mid-send
      // (the server may have accepted it); timeouts keep a conversation well inside the claim's lease.
      this.pool = { url, transport: nodemailer.createTransport({ url, pool: true, maxConnections: 1, maxRequeues: 0, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 120_000 } as SMTPPool.Options) };
    }
    return this.pool.transport;
  }

  /** Closes the pooled SMTP connection (at shutdown). */
  close(): void {
    this.pool?.transport.close();
    this.pool = null;
  }
}

/** The TXT record value that publishes a DKIM private key's public half. */
export function dkimDnsRecord(privateKeyPem: string): string {
  const pub = crypto.createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' }).toString('base64');
  return `v=DKIM1; k=rsa; p=${pub}`;
}
