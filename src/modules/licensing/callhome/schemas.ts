// Response schemas of the call-home surface. They are what Fastify serialises with (fast, fixed field
// order) and they stop any field the contract does not name from leaking into a signed answer.
// Nullable fields say so: without it the serialiser would turn null into 0 or "".

import { Type } from 'typebox';

const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });

const Download = {
  url: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  expiresAt: Type.String(),
};

export const LicenceSchema = Type.Object({
  product: Type.String(),
  status: Type.String(),
  maxUsers: NullableInteger,
  maxMachines: NullableInteger,
  expiresAt: NullableString,
  maintenanceUntil: NullableString,
  addons: Type.Array(Type.Object({ code: Type.String(), until: NullableString, active: Type.Boolean() })),
});

const UpdateSchema = Type.Object({
  available: Type.Boolean(),
  version: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  releasedAt: Type.Optional(Type.String()),
  security: Type.Optional(Type.Boolean()),
  entitled: Type.Optional(Type.Boolean()),
  notes: Type.Optional(NullableString),
  download: Type.Optional(Type.Object(Download)),
});

const ContentEntrySchema = Type.Object({
  available: Type.Boolean(),
  version: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  sha256: Type.Optional(Type.String()),
  size: Type.Optional(Type.Integer()),
  expiresAt: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});

// Every field optional in the schema: the serialiser writes required fields first, and the contract's
// field order (ts, nonce, valid, code, …) reads better; presence is the renderer's job (answer.ts).
export const AnswerSchema = Type.Object({
  ts: Type.Optional(Type.String()),
  nonce: Type.Optional(Type.String()),
  valid: Type.Optional(Type.Boolean()),
  code: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  flags: Type.Optional(Type.Array(Type.String())),
  licence: Type.Optional(LicenceSchema),
  machines: Type.Optional(Type.Object({ active: Type.Integer(), max: NullableInteger })),
  update: Type.Optional(UpdateSchema),
  content: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: ContentEntrySchema })),
  nextCheckSeconds: Type.Optional(Type.Number()),
  offlineUntil: Type.Optional(Type.String()),
});

export const ErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});

export const KeysSchema = Type.Object({
  keys: Type.Array(Type.Object({
    kid: Type.String(),
    algorithm: Type.String(),
    publicKey: Type.String(),
    status: Type.String(),
    createdAt: Type.String(),
  })),
});
