import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const ORDER_RECORD = { period: 'P6Y', from: 'financial_year_end' as const, rationale: 'Orders are accounting records, kept six years from the end of the financial year.' };
const OSS_RECORD = { period: 'P10Y', from: 'financial_year_end' as const, rationale: 'One-stop-shop VAT records (the evidence of where an EU consumer is) are kept ten years.' };

const orderField = (column: string, f: Pick<PersonalField, 'category' | 'label' | 'purposes'> & Partial<PersonalField>): PersonalField => ({
  location: { table: 'orders', column }, subjects: ['customer'], source: 'data_subject', provision: 'statutory', recipients: ['accounting'],
  retention: ORDER_RECORD, onErasure: { retain: 'legal_obligation' }, access: true, portable: true, identity: 'customer_id',
  protection: 'plain', logging: 'never', ...f,
});

const staffRef = (table: string, column: string, label: string): PersonalField => ({
  location: { table, column }, subjects: ['staff', 'customer'], category: 'user.unique_id', label, purposes: ['order'], source: 'staff',
  provision: 'contractual', recipients: [], retention: ORDER_RECORD, onErasure: { retain: 'legal_obligation' }, access: false, portable: false,
  protection: 'plain', logging: 'allowed',
});

/** Orders: the buyer's contact details (contract) and billing details (legal obligation), baskets, payments. */
export const ordersPrivacy: PrivacyDeclarations = {
  module: 'orders',
  purposes: [
    {
      id: 'order', dataUse: 'essential.service.payment_processing', lawfulBasis: 'contract',
      description: 'Taking and fulfilling orders: the basket, payment, delivering licence keys, and contacting the buyer about a problem with an order.',
    },
  ],
  fields: [
    orderField('customer_id', { category: 'user.unique_id', label: 'Customer reference on orders', purposes: ['order', 'billing'], logging: 'allowed' }),
    orderField('email', { category: 'user.contact.email', label: 'Order contact email', purposes: ['order'], provision: 'contractual', recipients: ['payments'], onErasure: 'pseudonymise', identity: 'email', logging: 'masked' }),
    orderField('phone', { category: 'user.contact.phone_number', label: 'Order contact telephone number', purposes: ['order'], provision: 'contractual', recipients: [], onErasure: 'null' }),
    orderField('billing_name', { category: 'user.name', label: 'Name on orders and invoices', purposes: ['billing'] }),
    orderField('billing_company', { category: 'user.workplace', label: 'Company name on orders and invoices', purposes: ['billing'], provision: 'optional' }),
    ...['billing_address_line1', 'billing_address_line2', 'billing_city', 'billing_region', 'billing_postcode', 'billing_country'].map((c) =>
      orderField(c, { category: 'user.contact.address', label: 'Invoice address', purposes: ['billing'] })),
    orderField('vat_number', { category: 'user.financial', label: 'VAT number', purposes: ['billing'], provision: 'optional' }),
    orderField('tax_evidence', { category: 'user.location.imprecise', label: 'Evidence of the country VAT was charged for (billing country, VAT number check, telephone prefix)', purposes: ['billing'], recipients: [], retention: OSS_RECORD, portable: false }),
    staffRef('orders', 'placed_by_staff_id', 'Staff member who took a phone order'),
    { ...staffRef('orders', 'reseller_id', 'Reseller who placed the order'), subjects: ['reseller_contact'] },
    staffRef('order_transitions', 'actor_id', 'Who changed an order\'s status'),
    staffRef('refunds', 'created_by', 'Staff member who refunded an order'),
    { ...staffRef('tax_rates', 'updated_by', 'Staff member who changed a VAT rate'), subjects: ['staff'], retention: { period: 'P6Y', from: 'collection', rationale: 'Part of the VAT records.' } },
    ...(['target_licence_id', 'licence_ids'] as const).map((column): PersonalField => ({
      location: { table: 'order_lines', column }, subjects: ['customer'], category: 'user.unique_id', label: 'Licences an order made or changed',
      purposes: ['order'], source: 'data_subject', provision: 'contractual', recipients: [], retention: ORDER_RECORD,
      onErasure: { retain: 'legal_obligation' }, access: true, portable: true, identity: 'customer_id', protection: 'plain', logging: 'allowed',
    })),
    {
      location: { table: 'basket_lines', column: 'target_licence_id' }, subjects: ['customer'], category: 'user.unique_id', label: 'Licence a basket item is for',
      purposes: ['order'], source: 'data_subject', provision: 'optional', recipients: [],
      retention: { period: 'P7D', from: 'last_activity', rationale: 'Baskets die with the browser session; rows left behind are removed after a week.' },
      onErasure: 'delete', access: false, portable: false, protection: 'plain', logging: 'allowed',
    },
    ...(['provider_ref', 'provider_payment_ref'] as const).map((column): PersonalField => ({
      location: { table: 'payments', column }, subjects: ['customer'], category: 'user.financial', label: 'Card payment reference at Stripe',
      purposes: ['billing'], source: { processor: 'payments' }, provision: 'contractual', recipients: ['payments'], retention: ORDER_RECORD,
      onErasure: { retain: 'legal_obligation' }, access: true, portable: false, identity: 'customer_id', protection: 'plain', logging: 'allowed',
    })),
  ],
  notPersonal: [
    ...notPersonal('baskets', ['id', 'token_hash', 'currency', 'coupon_code', 'version', 'created_at', 'updated_at'], 'A basket: SHA-256 of a random browser-session token; nobody\'s identity.'),
    ...notPersonal('basket_lines', ['id', 'basket_id', 'plan_id', 'quantity', 'created_at'], 'What is in a basket.'),
    ...notPersonal('orders', ['id', 'reference', 'status', 'channel', 'currency', 'tax_treatment', 'coupon_code', 'total_net', 'total_tax', 'total_gross', 'refunded_amount',
      'payment_method', 'checkout_key', 'checkout_hash', 'created_at', 'updated_at', 'paid_at'], 'The order\'s own figures and status.'),
    ...notPersonal('order_lines', ['id', 'order_id', 'line_no', 'plan_id', 'sku', 'kind', 'description', 'product_code', 'max_users', 'addon_code', 'term_months', 'quantity',
      'unit_net', 'discount', 'net', 'tax_rate_bp', 'tax', 'gross', 'term_start', 'term_end'], 'What was ordered and its price.'),
    ...notPersonal('order_transitions', ['id', 'order_id', 'from_status', 'to_status', 'at', 'actor_kind', 'note'], 'The order\'s history.'),
    ...notPersonal('payments', ['id', 'order_id', 'provider', 'status', 'amount', 'currency', 'created_at', 'updated_at'], 'Payment status and amount.'),
    ...notPersonal('payment_events', ['provider', 'event_id', 'type', 'order_id', 'received_at'], 'Ids of provider events already handled.'),
    ...notPersonal('refunds', ['id', 'order_id', 'payment_id', 'amount', 'reason', 'provider_ref', 'credit_note_id', 'idempotency_key', 'created_at'], 'Refund amounts; the reason is the staff\'s note printed on the credit note.'),
    ...notPersonal('tax_rates', ['country', 'rate_bp', 'updated_at'], 'VAT rates per country.'),
  ],
  cookies: [
    {
      name: 'kw_basket', purpose: 'Remembers what you put in your basket while your browser is open.',
      holds: 'a random 256-bit basket reference', exemption: 'strictly_necessary', persistence: 'browser_session',
      setWhen: 'first item put in the basket', httpOnly: true, sameSite: 'Lax',
    },
  ],
};
