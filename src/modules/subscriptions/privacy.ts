import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const SUB_TERM = { period: 'P0D', from: 'account_closure' as const, rationale: 'Kept while the customer has the licence the subscription belongs to; the orders and invoices that paid for it are kept as accounting records.' };

const subRef = (column: string, label: string): PersonalField => ({
  location: { table: 'subscriptions', column }, subjects: ['customer'], category: 'user.unique_id', label, purposes: ['licensing'],
  source: 'data_subject', provision: 'contractual', recipients: [], retention: SUB_TERM, onErasure: 'delete', access: true, portable: true,
  identity: 'customer_id', protection: 'plain', logging: 'allowed',
});

/** Subscriptions: which customer and licence a support or add-on term belongs to; reminders sent. */
export const subscriptionsPrivacy: PrivacyDeclarations = {
  module: 'subscriptions',
  fields: [
    subRef('customer_id', 'Customer a subscription belongs to'),
    subRef('licence_id', 'Licence a subscription renews'),
    subRef('last_order_id', 'Order that paid for the current subscription term'),
  ],
  notPersonal: [
    ...notPersonal('subscriptions', ['id', 'item', 'product_code', 'addon_code', 'currency', 'period_start', 'period_end', 'renewal_mode', 'cancel_at_period_end', 'created_at', 'updated_at'],
      'The term bought, its dates and the renewal choices.'),
    ...notPersonal('subscription_reminders', ['subscription_id', 'period_end', 'days_before', 'sent_at'], 'Which renewal reminders went out, so each is sent once.'),
  ],
};
