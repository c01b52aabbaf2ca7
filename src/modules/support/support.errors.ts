import createError from '@fastify/error';

/** The helpdesk's errors: services throw these; pages re-show their form with the message. */
export const TicketNotFound = createError('SUP_TICKET_NOT_FOUND', 'There is no such ticket, or it is not yours.', 404);
export const AttachmentNotFound = createError('SUP_ATTACHMENT_NOT_FOUND', 'There is no such file, or it is not yours.', 404);
export const InvalidInput = createError<'SUP_INVALID_INPUT', 400, [string]>('SUP_INVALID_INPUT', '%s', 400);
export const BadTransition = createError<'SUP_BAD_TRANSITION', 409, [string, string]>('SUP_BAD_TRANSITION', 'A ticket that is %s cannot become %s.', 409);
export const MergeRefused = createError<'SUP_MERGE_REFUSED', 400, [string]>('SUP_MERGE_REFUSED', '%s', 400);
export const AttachmentTooLarge = createError<'SUP_ATTACHMENT_TOO_LARGE', 400, [string, number]>(
  'SUP_ATTACHMENT_TOO_LARGE', 'The file "%s" is too large: each file may be at most %s MB. Send large files as a link instead.', 400);
export const TooManyAttachments = createError<'SUP_TOO_MANY_ATTACHMENTS', 400, [number]>('SUP_TOO_MANY_ATTACHMENTS', 'Attach at most %s files to one message.', 400);
export const FormTooFast = createError('SUP_FORM_TOO_FAST', 'That was quicker than we expected from a person. Please check your message and send it again.', 400);
export const ThreadLocked = createError('SUP_THREAD_LOCKED', 'This thread is locked: no new replies can be added.', 409);
export const ArticleNotFound = createError('SUP_ARTICLE_NOT_FOUND', 'There is no such article.', 404);
export const ForumNotFound = createError('SUP_FORUM_NOT_FOUND', 'There is no such forum page.', 404);
export const NotAllowed = createError('SUP_FORBIDDEN', 'You cannot do that here.', 403);
export const SlugTaken = createError('SUP_SLUG_TAKEN', 'That address (slug) is already used; choose another.', 409);
