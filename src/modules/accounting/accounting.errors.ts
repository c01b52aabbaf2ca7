import createError from '@fastify/error';

export const FieldNotShared = createError<'ACT_FIELD_NOT_SHARED', 500, [string]>('ACT_FIELD_NOT_SHARED', 'Refusing to send %s to the accounting system: it is not declared as shared with the accounting processor.', 500);
export const InvalidAccountingInput = createError<'ACT_INVALID_INPUT', 400, [string]>('ACT_INVALID_INPUT', '%s', 400);
