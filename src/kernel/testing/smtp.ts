import { SMTPServer } from 'smtp-server';
import PostalMime from 'postal-mime';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  attachments: Array<{ filename: string | null; mimeType: string; size: number }>;
  /** When the peer accepted it (Date.now()). */
  receivedAt: number;
}

/** A real SMTP peer on loopback that keeps what it receives, for tests of outgoing mail. */
export class SmtpPeer {
  readonly received: ReceivedMail[] = [];
  private server!: SMTPServer;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** When set, the peer refuses every message with this SMTP error (to test retries). */
  refuse: string | null = null;
  /** When set, each message is acknowledged only after this many milliseconds (a slow receiving server). */
  delayMs = 0;
  /**
   * Called once a message is accepted and kept, before the 250 reply goes back: a test can kill the
   * sending process here (the server has the message; the sender never hears so). Awaited.
   */
  onAccepted: ((m: ReceivedMail) => unknown) | null = null;
  /** When set, the peer keeps each message and then drops the connection instead of answering 250. */
  dropAfterAccept = false;

  async start(): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
          if (this.refuse) { const e = new Error(this.refuse) as Error & { responseCode: number }; e.responseCode = 451; return callback(e); }
          const raw = Buffer.concat(chunks).toString('utf8');
          const parsed = await PostalMime.parse(raw);
          this.received.push({
            from: session.envelope.mailFrom ? (session.envelope.mailFrom as { address: string }).address : '',
            receivedAt: Date.now(), to: session.envelope.rcptTo.map((r) => r.address), raw, subject: parsed.subject ?? '', text: parsed.text ?? '', html: parsed.html ?? '',
            headers: Object.fromEntries(parsed.headers.map((h) => [h.key.toLowerCase(), h.value])),
            attachments: parsed.attachments.map((a) => ({ filename: a.filename, mimeType: a.mimeType, size: typeof a.content === 'string' ? a.content.length : (a.content as ArrayBuffer).byteLength })),
          });
          if (this.onAccepted) await this.onAccepted(this.received[this.received.length - 1]!);
          if (this.dropAfterAccept) { for (const s of this.sockets) s.destroy(); return; }
          callback();
        });
      },
    });
    // A sender that dies mid-session (the crash tests kill nodes) resets its connection: not our error.
    this.server.on('error', () => {});
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    this.server.server.on('connection', (s: Socket) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    return this;
  }

  /** How many times each Message-ID arrived (a message sent twice shows up as 2). */
  countsByMessageId(filter: (m: ReceivedMail) => boolean = () => true): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.received) {
      if (!filter(m)) continue;
      const id = m.headers['message-id'] ?? '(none)';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  /** Message-IDs that arrived more than once. */
  duplicates(filter?: (m: ReceivedMail) => boolean): string[] {
    return [...this.countsByMessageId(filter)].filter(([, n]) => n > 1).map(([id]) => id);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}?ignoreTLS=true`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
