import nodemailer from 'nodemailer';
import type { Db } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { JobQueue, Logger } from '../jobs/queue.js';
import type { Settings } from '../settings/settings.js';
import { newId } from '../crypto/tokens.js';

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
}

export const SMTP_SETTING = 'mail.smtp';

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
  ) {
    jobs.register('mail.deliver', async (p: { id: string }) => this.deliver(p.id));
  }

  async smtpUrl(): Promise<string | undefined> {
    const s = await this.settings.get<{ url?: string } | null>(SMTP_SETTING, null);
    return s?.url || this.defaults.smtpUrl;
  }

  async from(): Promise<string> {
    const s = await this.settings.get<{ from?: string } | null>(SMTP_SETTING, null);
    return s?.from || this.defaults.from;
  }

  async send(mail: OutgoingMail, trx: Db = this.db): Promise<string> {
    const id = newId();
    const from = mail.from ?? (await this.from());
    const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
    const smtp = await this.smtpUrl();
    await trx.insertInto('mail_outbox').values({
      id, to_addr: mail.to, from_addr: from, subject: mail.subject, text_body: mail.text, html_body: mail.html ?? null,
      headers: JSON.stringify(mail.headers ?? {}), attachments: JSON.stringify(mail.attachments ?? []), category: mail.category,
      status: smtp ? 'queued' : 'held', attempts: 0, last_error: null,
      message_id: mail.messageId ?? `<${id}@${domain}>`, created_at: this.clock.now(), sent_at: null,
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

  private async deliver(id: string): Promise<void> {
    const row = await this.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.status === 'sent') return;
    const url = await this.smtpUrl();
    if (!url) {
      await this.db.updateTable('mail_outbox').set({ status: 'held' }).where('id', '=', id).execute();
      return;
    }
    const transport = nodemailer.createTransport(url);
    try {
      await transport.sendMail({
        from: row.from_addr, to: row.to_addr, subject: row.subject, text: row.text_body, html: row.html_body ?? undefined,
        headers: JSON.parse(row.headers), messageId: row.message_id,
        attachments: (JSON.parse(row.attachments) as OutgoingMail['attachments'])!.map((a) => ({
          filename: a.filename, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64'),
        })),
      });
      await this.db.updateTable('mail_outbox').set({ status: 'sent', sent_at: this.clock.now(), attempts: row.attempts + 1, last_error: null })
        .where('id', '=', id).execute();
    } catch (err) {
      const message = (err as Error).message;
      await this.db.updateTable('mail_outbox').set({ attempts: row.attempts + 1, last_error: message.slice(0, 1000) }).where('id', '=', id).execute();
      // The outbox row never carries the recipient into logs: only its id.
      this.log.warn({ mailId: id, err: message }, 'mail delivery failed; will retry');
      throw err;
    } finally {
      transport.close();
    }
  }
}
