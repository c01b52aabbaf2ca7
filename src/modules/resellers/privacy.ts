import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const SALE_RECORD = { period: 'P6Y', from: 'financial_year_end' as const, rationale: 'Reseller sales are part of the order records, kept six years from the end of the financial year.' };
const WHILE_RESELLER = { period: 'P6Y', from: 'account_closure' as const, rationale: 'The reseller agreement\'s terms are kept while the account is open and six years after, the limitation period for claims.' };

const f = (table: string, column: string, x: Omit<PersonalField, 'location' | 'access' | 'portable' | 'protection'> & Partial<PersonalField>): PersonalField =>
  ({ location: { table, column }, access: true, portable: true, protection: 'plain', ...x });

const endCustomer = (column: string, category: string, label: string, extra: Partial<PersonalField> = {}) => f('reseller_sales', column, {
  subjects: ['customer'], category, label, purposes: ['reseller_sales'], source: 'customer_admin', provision: 'contractual', recipients: [],
  retention: SALE_RECORD, onErasure: { retain: 'legal_obligation' }, identity: 'email', logging: 'never', ...extra,
});

/** Resellers: their agreement (discount, terms), their optional public listing, and the end customers they sell to. */
export const resellersPrivacy: PrivacyDeclarations = {
  module: 'resellers',
  purposes: [
    {
      id: 'reseller_sales', dataUse: 'essential.service', lawfulBasis: 'contract',
      description: 'Selling through resellers: the reseller\'s terms, the orders it places, and the end customer named on each licence it sells.',
    },
    {
      id: 'reseller_directory', dataUse: 'marketing.advertising.first_party', lawfulBasis: 'consent',
      description: 'Listing resellers who asked to be listed on the public resellers page.',
      consent: { recordKind: 'newsletter_consent_events (topic reseller_directory: opt_in, and unsubscribe when withdrawn)', howToWithdraw: 'The reseller page in My account (the listing disappears at once), or writing to support.' },
    },
  ],
  fields: [
    f('resellers', 'customer_id', { subjects: ['reseller_contact'], category: 'user.unique_id', label: 'Reseller account reference', purposes: ['reseller_sales'], source: 'staff', provision: 'contractual', recipients: [], retention: WHILE_RESELLER, onErasure: { retain: 'legal_claims' }, identity: 'customer_id', logging: 'allowed' }),
    f('resellers', 'public_name', { subjects: ['reseller_contact'], category: 'user.workplace', label: 'Reseller name for the public resellers page', purposes: ['reseller_directory'], source: 'staff', provision: 'optional', recipients: [], retention: WHILE_RESELLER, onErasure: 'delete', identity: 'customer_id', logging: 'never' }),
    f('resellers', 'public_url', { subjects: ['reseller_contact'], category: 'user.workplace', label: 'Reseller website for the public resellers page', purposes: ['reseller_directory'], source: 'staff', provision: 'optional', recipients: [], retention: WHILE_RESELLER, onErasure: 'null', identity: 'customer_id', logging: 'never' }),
    f('resellers', 'public_country', { subjects: ['reseller_contact'], category: 'user.workplace', label: 'Reseller country for the public resellers page', purposes: ['reseller_directory'], source: 'staff', provision: 'optional', recipients: [], retention: WHILE_RESELLER, onErasure: 'null', identity: 'customer_id', logging: 'never' }),
    f('resellers', 'updated_by', { subjects: ['staff'], category: 'user.unique_id', label: 'Staff member who last changed a reseller\'s terms', purposes: ['reseller_sales'], source: 'staff', provision: 'contractual', recipients: [], retention: WHILE_RESELLER, onErasure: { retain: 'legal_claims' }, access: false, portable: false, logging: 'allowed' }),
    f('reseller_prices', 'reseller_id', { subjects: ['reseller_contact'], category: 'user.unique_id', label: 'Reseller price list owner', purposes: ['reseller_sales'], source: 'staff', provision: 'contractual', recipients: [], retention: WHILE_RESELLER, onErasure: { retain: 'legal_claims' }, identity: 'customer_id', logging: 'allowed' }),
    f('reseller_sales', 'reseller_id', { subjects: ['reseller_contact'], category: 'user.unique_id', label: 'Reseller who made a sale', purposes: ['reseller_sales'], source: 'data_subject', provision: 'contractual', recipients: [], retention: SALE_RECORD, onErasure: { retain: 'legal_obligation' }, identity: 'customer_id', logging: 'allowed' }),
    endCustomer('end_name', 'user.name', 'End customer name given by the reseller'),
    endCustomer('end_company', 'user.workplace', 'End customer company given by the reseller'),
    // The sale is an order record, but the end customer's email is not needed for it: erasure pseudonymises it, as orders do.
    endCustomer('end_email', 'user.contact.email', 'End customer email given by the reseller (on the licence)', { onErasure: 'pseudonymise' }),
    endCustomer('end_country', 'user.contact.address', 'End customer country given by the reseller'),
  ],
  notPersonal: [
    ...notPersonal('resellers', ['status', 'discount_percent', 'payment_terms_days', 'currency', 'created_at', 'updated_at'], 'The reseller agreement\'s terms.'),
    ...notPersonal('reseller_prices', ['plan_id', 'currency', 'unit_net', 'updated_at'], 'A reseller price.'),
    ...notPersonal('reseller_sales', ['order_id', 'terms_days', 'created_at'], 'Which order, on what terms, when.'),
  ],
};
