import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { formBody } from '../../kernel/http/page.js';
import type { Kernel } from '../../kernel/context.js';
import type { TicketStatus } from './support.tables.js';
import type { TicketService } from './tickets.service.js';
import type { TicketViewError } from './admin-tickets.pages.js';
import { STAFF } from './admin-tickets.pages.js';
import { filesOf } from './uploads.js';
import * as repo from './tickets.repository.js';
import { InvalidInput, TicketNotFound } from './support.errors.js';

type View = (request: FastifyRequest, reply: FastifyReply, number: number, err?: TicketViewError) => Promise<FastifyReply>;

const params = Type.Object({ number: Type.String({ pattern: '^[0-9]{1,9}$' }) });

/** The ticket page's forms: each does one thing, then returns to the ticket (or re-shows it with the error). */
export function registerAdminTicketActions(app: FastifyInstance, k: Kernel, tickets: TicketService, view: View): void {
  const action = (what: TicketViewError['form'], fields: Record<string, number>, run: (ticketId: string, body: Record<string, string | undefined>, request: FastifyRequest) => Promise<number | void>) => {
    app.post(`/admin/tickets/:number/${what}`, { preHandler: STAFF, schema: { params, body: formBody(fields) } }, async (request, reply) => {
      const number = Number((request.params as { number: string }).number);
      const body = (request.body ?? {}) as Record<string, string | undefined>;
      const t = await repo.ticketByNumber(k.db, number);
      if (!t) throw new TicketNotFound();
      try {
        const goTo = await run(t.id, body, request);
        const done = what === 'reply' ? 'replied' : what === 'note' ? 'noted' : what === 'assign' ? 'assigned' : what === 'merge' ? 'merged' : what;
        return reply.redirect(`/admin/tickets/${goTo ?? t.number}?done=${done}`, 303);
      } catch (err) {
        const e = err as { code?: string; message: string; statusCode?: number };
        if (!e.code?.startsWith('SUP_') || e.code === 'SUP_TICKET_NOT_FOUND') throw err;
        const value = body.text ?? body.note ?? body.tags ?? body.into;
        return view(request, reply, t.number, { form: what, message: e.message, value, status: e.statusCode });
      }
    });
  };

  const staff = (request: FastifyRequest) => ({ id: request.auth!.subjectId, name: request.auth!.name });

  action('reply', { text: 60_000 }, async (id, body, request) => {
    const { files, tooLarge } = filesOf(request);
    if (tooLarge.length) throw new InvalidInput(`Too large to send (see the limit under the file field): ${tooLarge.join(', ')}.`);
    await tickets.reply(id, staff(request), body.text, files);
  });
  action('note', { note: 60_000 }, async (id, body, request) => tickets.note(id, request.auth!.subjectId, body.note));
  action('assign', { assignee: 40 }, async (id, body, request) => tickets.assign(id, body.assignee || null, request.auth!.subjectId));
  action('status', { status: 20 }, async (id, body, request) => {
    const to = body.status as TicketStatus;
    if (!['open', 'pending', 'closed', 'spam'].includes(to)) throw new InvalidInput('Choose a status.');
    await tickets.setStatus(id, to, request.auth!.subjectId);
  });
  action('tags', { tags: 1000 }, async (id, body) => tickets.setTags(id, body.tags));
  action('merge', { into: 20, people: 3 }, async (id, body, request) => (await tickets.merge(id, body.into, request.auth!.subjectId, body.people === 'yes')).number);
}
