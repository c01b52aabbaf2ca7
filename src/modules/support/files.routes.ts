import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { contentDisposition, readAttachment, servedType, verifyFileLink } from './attachments.js';
import { AttachmentNotFound } from './support.errors.js';
import * as repo from './tickets.repository.js';
import type { SupportAttachmentsTable } from './support.tables.js';

const idParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });

/**
 * Ticket files are served only to staff and to the ticket's participants: signed-in customers through
 * their session, people without an account through the signed link in the email they were sent. Every
 * refusal is the same "not found", so ids cannot be probed.
 */
export function registerFileRoutes(app: FastifyInstance, k: Kernel): void {
  const send = (reply: FastifyReply, a: SupportAttachmentsTable) => {
    const data = readAttachment(k, a.stored_path);
    if (!data) throw new AttachmentNotFound();
    return reply.type(servedType(a.content_type)).header('content-disposition', contentDisposition(a.filename))
      .header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff').send(data);
  };

  const load = async (id: string) => {
    const a = await k.db.selectFrom('support_attachments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!a) throw new AttachmentNotFound();
    return a;
  };

  app.get('/support/attachments/:id', { schema: { params: idParams } }, async (request, reply) => {
    const a = await load((request.params as { id: string }).id);
    const auth = request.auth;
    if (auth?.kind === 'staff' && auth.role !== 'sales') return send(reply, a);
    if (auth?.kind !== 'customer') return reply.redirect(`/account/login?next=${encodeURIComponent(request.url)}`, 303);
    const t = await repo.ticketById(k.db, a.ticket_id);
    const note = await k.db.selectFrom('support_messages').select('kind').where('id', '=', a.message_id).executeTakeFirst();
    if (!t || t.status === 'spam' || !note || !['customer', 'staff'].includes(note.kind) || !(await repo.customerIsParticipant(k.db, t.id, auth.subjectId, auth.email))) throw new AttachmentNotFound();
    return send(reply, a);
  });

  app.get('/support/files/:id', {
    schema: { params: idParams, querystring: Type.Object({ p: Type.Optional(Type.String({ maxLength: 40 })), e: Type.Optional(Type.String({ maxLength: 20 })), s: Type.Optional(Type.String({ maxLength: 100 })) }) },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const q = request.query as { p?: string; e?: string; s?: string };
    if (!verifyFileLink(k, id, q)) throw new AttachmentNotFound();
    const a = await load(id);
    const stillThere = await k.db.selectFrom('support_participants').select('id').where('id', '=', q.p!).where('ticket_id', '=', a.ticket_id).executeTakeFirst();
    if (!stillThere) throw new AttachmentNotFound();
    return send(reply, a);
  });
}
