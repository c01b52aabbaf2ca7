import type { Kernel } from '../../kernel/context.js';
import type { RequestAuth } from '../../kernel/http/request-auth.js';
import { normaliseEmail } from '../accounts/index.js';
import { checkUploads, type Upload } from './attachments.js';
import { cleanSubject } from './mail/headers.js';
import { supportEnv } from './outbound.js';
import { InvalidInput, TicketNotFound } from './support.errors.js';
import { cleanText, type TicketService } from './tickets.service.js';
import * as repo from './tickets.repository.js';
import type { Ticket } from './tickets.repository.js';

/** What people do on the web: the contact form and replies from My account. */
export class PortalService {
  constructor(private readonly k: Kernel, private readonly tickets: TicketService) {}

  async contact(input: Record<string, unknown>, uploads: Upload[], auth: RequestAuth | null): Promise<Ticket> {
    const env = await supportEnv(this.k);
    let email: string;
    try {
      email = auth?.kind === 'customer' ? auth.email : normaliseEmail(input.email);
    } catch (err) {
      throw Object.assign(new InvalidInput((err as Error).message), { field: 'email' });
    }
    const name = typeof input.name === 'string' && input.name.trim() ? input.name.trim().slice(0, 200) : auth?.kind === 'customer' ? auth.name : null;
    const subject = cleanSubject(cleanText(input.subject, 'subject', 'a subject', 200));
    const text = cleanText(input.message, 'message', 'your message');
    checkUploads(uploads, env.settings.attachmentMaxMb);
    return this.k.db.transaction().execute(async (trx) => {
      const r = await this.tickets.createIn(trx, env, {
        mailbox: env.settings.address, subject, channel: 'web', cc: [],
        message: { from: { email, name }, text, html: null, via: 'web', messageId: null, inboundId: null, uploads },
        // Signed in, the address is the account's (confirmed); typed into the form, it is anyone's.
        acknowledge: auth?.kind === 'customer' ? true : 'unquoted', notify: true,
      });
      return r.ticket;
    });
  }

  /** The ticket a signed-in customer may see: theirs by account or verified email, else "not found". */
  async customerTicket(number: number, auth: RequestAuth): Promise<Ticket> {
    const t = await repo.ticketByNumber(this.k.db, number);
    if (!t || t.status === 'spam' || t.anonymised_at || !(await repo.customerIsParticipant(this.k.db, t.id, auth.subjectId, auth.email))) throw new TicketNotFound();
    return t;
  }

  async customerReply(number: number, auth: RequestAuth, input: Record<string, unknown>, uploads: Upload[]): Promise<Ticket> {
    const t = await this.customerTicket(number, auth);
    const text = cleanText(input.message, 'message', 'your message');
    const env = await supportEnv(this.k);
    checkUploads(uploads, env.settings.attachmentMaxMb);
    await this.k.db.transaction().execute(async (trx) => {
      const fresh = (await repo.ticketById(trx, t.id))!;
      await this.tickets.appendIn(trx, env, fresh, {
        from: { email: auth.email, name: auth.name }, text, html: null, via: 'web', messageId: null, inboundId: null, uploads,
      }, { automatic: false });
    });
    return t;
  }
}
