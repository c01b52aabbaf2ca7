import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const customerField = (column: string, f: Omit<PersonalField, 'location' | 'subjects' | 'source' | 'access' | 'portable' | 'identity' | 'logging' | 'protection'> & Partial<PersonalField>): PersonalField => ({
  location: { table: 'customers', column }, subjects: ['customer'], source: 'data_subject', access: true, portable: true,
  identity: 'customer_id', protection: 'plain', logging: 'never', ...f,
});

const ACCOUNT_CLOSURE = { period: 'P0D', from: 'account_closure' as const, rationale: 'Needed while the account is open; removed when it is closed.' };
const INVOICE_COPY = { period: 'P6Y', from: 'financial_year_end' as const, rationale: 'UK VAT records are kept for six years; the invoice keeps its own copy.' };

export const accountsPrivacy: PrivacyDeclarations = {
  module: 'accounts',
  purposes: [
    {
      id: 'account', dataUse: 'essential.service', lawfulBasis: 'contract',
      description: 'Providing the customer portal where customers see their licence keys, invoices and subscriptions, and contacting customers about their orders and renewals.',
    },
    {
      id: 'authentication', dataUse: 'essential.service.authentication', lawfulBasis: 'contract',
      description: 'Signing customers and staff in securely, keeping them signed in, and letting them reset a forgotten password.',
    },
    {
      id: 'billing', dataUse: 'finance', lawfulBasis: 'legal_obligation',
      legalObligation: 'UK VAT rules (VAT Act 1994 and HMRC VAT Notice 700/21) require VAT invoices with the buyer\'s name and address, kept for six years.',
      description: 'Sending invoices and keeping the accounting records the law asks for.',
    },
  ],
  fields: [
    customerField('email', { category: 'user.contact.email', label: 'Email address', purposes: ['account', 'authentication'], provision: 'contractual', recipients: ['helpdesk', 'mailing'], retention: ACCOUNT_CLOSURE, onErasure: 'suppression_list', identity: 'email', logging: 'masked' }),
    customerField('name', { category: 'user.name', label: 'Name', purposes: ['account', 'billing'], provision: 'contractual', recipients: ['accounting'], retention: ACCOUNT_CLOSURE, onErasure: 'null' }),
    customerField('company', { category: 'user.workplace', label: 'Company name', purposes: ['billing'], provision: 'optional', recipients: ['accounting'], retention: ACCOUNT_CLOSURE, onErasure: 'null' }),
    customerField('phone', { category: 'user.contact.phone_number', label: 'Contact telephone number', purposes: ['account'], provision: 'optional', recipients: [], retention: ACCOUNT_CLOSURE, onErasure: 'delete' }),
    ...['address_line1', 'address_line2', 'city', 'region', 'postcode', 'country'].map((column) =>
      customerField(column, { category: 'user.contact.address', label: 'Invoice address', purposes: ['billing'], provision: 'statutory', recipients: ['accounting'], retention: INVOICE_COPY, onErasure: 'null' })),
    customerField('vat_number', { category: 'user.financial', label: 'VAT number', purposes: ['billing'], provision: 'optional', recipients: ['accounting'], retention: INVOICE_COPY, onErasure: 'null' }),
    customerField('password_hash', { category: 'user.authorization.credentials', label: 'Securely hashed password', purposes: ['authentication'], provision: 'contractual', recipients: [], retention: ACCOUNT_CLOSURE, onErasure: 'delete', protection: 'argon2id', access: false, portable: false }),
    ...['email_verified_at', 'created_at', 'updated_at', 'last_login_at', 'closed_at'].map((column) =>
      customerField(column, { category: 'user.behavior', label: 'Account dates (created, confirmed, last sign-in)', purposes: ['account', 'authentication'], provision: 'contractual', recipients: [], retention: ACCOUNT_CLOSURE, onErasure: 'delete', portable: false, logging: 'allowed' })),
    ...(['sessions', 'remember_tokens'] as const).map((table): PersonalField => ({
      location: { table, column: 'subject_id' }, subjects: ['customer', 'staff'], category: 'user.unique_id',
      label: table === 'sessions' ? 'Signed-in sessions' : 'Remembered devices', purposes: ['authentication'], source: 'data_subject',
      provision: 'contractual', recipients: [], retention: { period: table === 'sessions' ? 'P7D' : 'P30D', from: 'collection', rationale: 'Ends at sign-out or expiry.' },
      onErasure: 'delete', access: true, portable: false, identity: 'customer_id', protection: 'sha256', logging: 'never',
    })),
    ...(['sessions', 'remember_tokens'] as const).map((table): PersonalField => ({
      location: { table, column: 'device' }, subjects: ['customer', 'staff'], category: 'user.device',
      label: table === 'sessions' ? 'Browser and system of a signed-in session (e.g. "Firefox on Linux"), not the full user agent' : 'Browser and system of a remembered device (e.g. "Firefox on Linux"), not the full user agent',
      purposes: ['authentication'], source: 'data_subject', provision: 'contractual', recipients: [],
      retention: { period: table === 'sessions' ? 'P7D' : 'P30D', from: 'collection', rationale: 'Shown in the list of your devices so you can sign them out; ends with the session or remembered device.' },
      onErasure: 'delete', access: true, portable: false, identity: 'customer_id', protection: 'plain', logging: 'never',
    })),
    {
      location: { table: 'account_tokens', column: 'subject_id' }, subjects: ['customer', 'staff'], category: 'user.unique_id',
      label: 'Pending email-confirmation and password-reset links', purposes: ['authentication'], source: 'data_subject', provision: 'contractual',
      recipients: [], retention: { period: 'P2D', from: 'collection', rationale: 'The links expire within 48 hours.' },
      onErasure: 'delete', access: false, portable: false, identity: 'customer_id', protection: 'sha256', logging: 'never',
    },
    ...(['email', 'name'] as const).map((column): PersonalField => ({
      location: { table: 'staff', column }, subjects: ['staff'], category: column === 'email' ? 'user.contact.email' : 'user.name',
      label: column === 'email' ? 'Staff email address' : 'Staff name', purposes: ['authentication', 'security'], source: 'staff', provision: 'contractual',
      recipients: [], retention: { period: 'P0D', from: 'account_closure', rationale: 'While the person works for the vendor.' },
      onErasure: 'pseudonymise', access: true, portable: true, identity: 'email', protection: 'plain', logging: 'masked',
    })),
    {
      location: { table: 'staff', column: 'password_hash' }, subjects: ['staff'], category: 'user.authorization.credentials', label: 'Staff password (hashed)',
      purposes: ['authentication'], source: 'staff', provision: 'contractual', recipients: [], retention: { period: 'P0D', from: 'account_closure', rationale: 'While the account exists.' },
      onErasure: 'delete', access: false, portable: false, protection: 'argon2id', logging: 'never',
    },
    {
      location: { table: 'staff', column: 'totp_secret_sealed' }, subjects: ['staff'], category: 'user.authorization.credentials', label: 'Two-factor secret (encrypted)',
      purposes: ['authentication'], source: 'staff', provision: 'optional', recipients: [], retention: { period: 'P0D', from: 'account_closure', rationale: 'While two-factor sign-in is on.' },
      onErasure: 'delete', access: false, portable: false, protection: 'encrypted', logging: 'never',
    },
    {
      location: { table: 'staff', column: 'last_login_at' }, subjects: ['staff'], category: 'user.behavior', label: 'Staff last sign-in',
      purposes: ['security'], source: 'staff', provision: 'contractual', recipients: [], retention: { period: 'P0D', from: 'account_closure', rationale: 'While the account exists.' },
      onErasure: 'delete', access: true, portable: false, protection: 'plain', logging: 'allowed',
    },
  ],
  notPersonal: [
    ...notPersonal('customers', ['id'], 'Random identifier.'),
    ...notPersonal('staff', ['id', 'role', 'totp_enabled', 'totp_last_step', 'created_at', 'disabled_at'], 'Account settings of the vendor\'s staff.'),
    ...notPersonal('sessions', ['id_hash', 'subject_kind', 'created_at', 'last_seen_at', 'expires_at'], 'SHA-256 of a random session token and its times.'),
    ...notPersonal('remember_tokens', ['selector', 'validator_hash', 'subject_kind', 'created_at', 'expires_at', 'last_used_at'], 'Random selector and hashed validator.'),
    ...notPersonal('account_tokens', ['token_hash', 'purpose', 'subject_kind', 'created_at', 'expires_at', 'used_at'], 'Hashed single-use token.'),
    ...notPersonal('api_keys', ['id', 'name', 'key_hash', 'last4', 'created_by', 'created_at', 'last_used_at', 'revoked_at'], 'Staff API keys, stored as a hash.'),
  ],
  cookies: [
    {
      name: 'kw_session', purpose: 'Keeps you signed in to My account, the support system and the admin while your browser is open.',
      holds: 'a random 256-bit session reference', exemption: 'strictly_necessary', persistence: 'browser_session',
      setWhen: 'signing in', httpOnly: true, sameSite: 'Lax', endsAtSignOut: true,
    },
    {
      name: 'kw_remember', purpose: 'Keeps you signed in on this device after the browser closes, only if you tick "Remember me".',
      holds: 'a random selector and a single-use validator', exemption: 'remember_me',
      persistence: { maxAgeDays: 30, onlyWhen: 'you tick "Remember me" when signing in' },
      setWhen: 'signing in with "Remember me" ticked', httpOnly: true, sameSite: 'Lax', endsAtSignOut: true,
    },
  ],
};
