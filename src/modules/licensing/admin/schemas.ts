// Admin API request and response schemas. Requests: types and ranges (Ajv answers 400 with the field);
// dates and cross-field rules are checked in the routes and services. Responses: exactly the fields
// of the contract's admin table, so nothing else (a key hash, an IP) can slip out.

import { Type } from 'typebox';

const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const DateInput = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 64 });

export const CODE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const Code = Type.String({ pattern: CODE_PATTERN });
const Reference = Type.String({ minLength: 1, maxLength: 200 });

export const PolicyInput = Type.Object({
  enforcement: Type.Optional(Type.Unsafe<'flag' | 'deny'>({ type: 'string', enum: ['flag', 'deny'] })),
  userOverage: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })),
  machineInactiveDays: Type.Optional(Type.Number({ minimum: 0, maximum: 36_500 })),
  offlineGraceDays: Type.Optional(Type.Number({ minimum: 0, maximum: 36_500 })),
  offlineFileDays: Type.Optional(Type.Number({ minimum: 0, maximum: 36_500 })),
  checkIntervalSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
}, { additionalProperties: false });

const AddonGrants = Type.Array(Type.Object({ code: Reference, until: Type.Optional(DateInput) }), { maxItems: 200 });
const MaxUsers = Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 0, maximum: 1_000_000_000 });
const MaxMachines = Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 0, maximum: 1_000_000 });

export const ProductInput = Type.Object({ code: Code, name: Type.String({ minLength: 1, maxLength: 200 }) });

export const LicenceCreateInput = Type.Object({
  product: Reference,
  maxUsers: MaxUsers,
  maxMachines: Type.Optional(MaxMachines),
  expiresAt: Type.Optional(DateInput),
  maintenanceUntil: Type.Optional(DateInput),
  addons: Type.Optional(AddonGrants),
  policy: Type.Optional(PolicyInput),
  customerEmail: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' })),
});

export const LicencePatchInput = Type.Object({
  status: Type.Optional(Type.Unsafe<'active' | 'suspended' | 'revoked'>({ type: 'string', enum: ['active', 'suspended', 'revoked'] })),
  maxUsers: Type.Optional(MaxUsers),
  maxMachines: Type.Optional(MaxMachines),
  expiresAt: Type.Optional(DateInput),
  maintenanceUntil: Type.Optional(DateInput),
  addons: Type.Optional(AddonGrants),
  policy: Type.Optional(PolicyInput),
});

export const AddonInput = Type.Object({ code: Code, name: Type.String({ minLength: 1, maxLength: 200 }), product: Reference });

export const LicenceFileInput = Type.Object({ computerId: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }) });

const PolicyOutput = Type.Object({
  enforcement: Type.String(), userOverage: Type.Number(), machineInactiveDays: Type.Number(),
  offlineGraceDays: Type.Number(), offlineFileDays: Type.Number(), checkIntervalSeconds: Type.Number(),
});

const licenceProps = {
  id: Type.String(),
  key: Type.String(),
  product: Type.String(),
  status: Type.String(),
  maxUsers: NullableInteger,
  maxMachines: NullableInteger,
  expiresAt: NullableString,
  maintenanceUntil: NullableString,
  addons: Type.Array(Type.Object({ code: Type.String(), until: NullableString })),
  policy: PolicyOutput,
  customerEmail: NullableString,
  createdAt: Type.String(),
  updatedAt: Type.String(),
};

export const LicenceOutput = Type.Object(licenceProps);

export const LicenceWithMachinesOutput = Type.Object({
  ...licenceProps,
  machines: Type.Array(Type.Object({
    computerId: Type.String(), firstSeen: NullableString, lastSeen: NullableString,
    lastVersion: NullableString, lastUsersInUse: NullableInteger, status: Type.String(),
  })),
});

export const ProductOutput = Type.Object({ code: Type.String(), name: Type.String(), createdAt: Type.String() });
export const AddonOutput = Type.Object({ code: Type.String(), name: Type.String(), product: Type.String() });

const FileOutput = Type.Object({ sha256: Type.String(), size: Type.Integer(), name: Type.String() });

export const ReleaseOutput = Type.Object({
  product: Type.String(), version: Type.String(), channel: Type.String(), releasedAt: Type.String(),
  security: Type.Boolean(), notes: NullableString, file: Type.Unsafe({ anyOf: [FileOutput, { type: 'null' }] }),
});

export const ContentOutput = Type.Object({
  addon: Type.String(), version: Type.String(), sha256: Type.String(), size: Type.Integer(), name: Type.String(),
});

export const OkOutput = Type.Object({ ok: Type.Boolean() });
