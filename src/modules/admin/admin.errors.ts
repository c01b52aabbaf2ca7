import createError from '@fastify/error';

export const AdminForbidden = createError('ADM_FORBIDDEN', 'Your role does not allow this part of the admin.', 403);
export const AdminNotFound = createError<'ADM_NOT_FOUND', 404, [string]>('ADM_NOT_FOUND', 'No such %s.', 404);
