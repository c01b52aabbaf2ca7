import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../jobs/queue.js';

/**
 * The built-in SMTP/LMTP listener (one or more: e.g. SMTP for the world and LMTP for a local MTA). Modules route recipients to handlers (support@ → helpdesk,
 * bounces+…@ → newsletter); unknown recipients are refused at RCPT TO, and messages over the size limit
 * are refused with a clear 552 before they are stored. A handler that throws makes the server answer with
 * a temporary failure (451), so the sending server keeps the message and retries: nothing is lost.
 */
export interface InboundMessage {
  raw: Buffer;
  /** The envelope sender ('' for a bounce's null sender); null when unknown (IMAP has no envelope). */
  mailFrom: string | null;
  rcptTo: string[];
  remoteAddress: string;
}

export type InboundHandler = (msg: InboundMessage, recipient: string) => Promise<void>;

export class InboundMail {
  private readonly routes: Array<{ name: string; match: (rcpt: string) => boolean; handler: InboundHandler }> = [];
  private servers: SMTPServer[] = [];

  constructor(private readonly log: Logger, readonly maxBytes = 10 * 1024 * 1024) {}

  route(name: string, match: (recipient: string) => boolean, handler: InboundHandler): void {
    this.routes.push({ name, match, handler });
  }

  handlerFor(recipient: string) {
    const r = recipient.toLowerCase();
    return this.routes.find((x) => x.match(r));
  }

  /** Delivers one message to the handler of each recipient (also used by IMAP polling and tests). */
  async deliver(msg: InboundMessage): Promise<void> {
    for (const rcpt of msg.rcptTo) {
      const route = this.handlerFor(rcpt);
      if (route) await route.handler(msg, rcpt.toLowerCase());
    }
  }

  async listen(port: number, host = '127.0.0.1', opts: { lmtp?: boolean } = {}): Promise<number> {
    const options: SMTPServerOptions = {
      lmtp: opts.lmtp ?? false, authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false,
      size: this.maxBytes, banner: 'Keyward mail intake',
      onRcptTo: (address, _session, cb) => {
        if (this.handlerFor(address.address)) return cb();
        const e = new Error(`No mailbox here for ${address.address}`) as Error & { responseCode: number };
        e.responseCode = 550;
        cb(e);
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
            const e = new Error(`Message too large: the limit is ${Math.floor(this.maxBytes / 1024 / 1024)} MB. Send large files as a link instead.`) as Error & { responseCode: number };
            e.responseCode = 552;
            return cb(e);
          }
          const msg: InboundMessage = {
            raw: Buffer.concat(chunks),
            mailFrom: session.envelope.mailFrom ? (session.envelope.mailFrom as { address: string }).address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            remoteAddress: session.remoteAddress,
          };
          this.deliver(msg).then(() => cb(), (err: Error) => {
            this.log.error({ err: err.message }, 'inbound mail handler failed; asking the sender to retry');
            const e = new Error('Temporary failure; please retry') as Error & { responseCode: number };
            e.responseCode = 451;
            cb(e);
          });
        });
      },
    };
    const server = new SMTPServer(options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.servers.push(server);
    return (server.server.address() as AddressInfo).port;
  }

  /** Stops every listener (SMTP and LMTP). */
  async close(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
