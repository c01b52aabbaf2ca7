// Every column licensing owns, personal or not (spec/privacy-registry.md). What a call home stores is
// exactly what the privacy notice promises: the licence, the external IP (cut to its network after
// 30 days), users in use, the version and a computer ID, plus timestamps.

import { notPersonal, type PersonalField, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

const LICENCE_TERM = { period: 'P0D', from: 'account_closure' as const, rationale: 'Linked to the customer until their account is closed; the licence itself stays (it is what installed copies check against), no longer linked to anyone.' };

const installation = (
  table: 'machines' | 'callhome_daily',
  column: string,
  f: Pick<PersonalField, 'category' | 'label' | 'purposes' | 'retention' | 'onErasure'> & Partial<PersonalField>,
): PersonalField => ({
  location: { table, column }, subjects: ['installed_software', 'customer'], source: 'installed_software', provision: 'contractual',
  recipients: [], access: true, portable: false, identity: 'licence_id', protection: 'plain', logging: 'never', ...f,
});

export const licensingPrivacy: PrivacyDeclarations = {
  module: 'licensing',
  purposes: [
    {
      id: 'licensing', dataUse: 'essential.service', lawfulBasis: 'contract',
      description: 'Checking that installed copies of the software run under a valid licence, counting the computers and users a licence covers, and offering the updates and content the licence includes.',
    },
    {
      id: 'misuse', dataUse: 'essential.service.security', lawfulBasis: 'legitimate_interests',
      legitimateInterest: 'Protecting the vendor\'s software from licence keys that are shared, leaked or resold, by seeing from how many networks a licence is used.',
      description: 'Detecting licence keys used on more computers or at more places than they allow, from the network each call comes from.',
    },
  ],
  fields: [
    ...(['key_hash', 'key_sealed'] as const).map((column): PersonalField => ({
      location: { table: 'licences', column }, subjects: ['customer'], category: 'user.unique_id',
      label: column === 'key_sealed' ? 'Licence key' : 'Licence key (hashed, for look-up)', purposes: ['licensing'],
      source: 'staff', provision: 'contractual', recipients: [], retention: LICENCE_TERM,
      onErasure: { retain: 'legal_obligation' }, access: column === 'key_sealed', portable: column === 'key_sealed',
      identity: 'licence_id', protection: column === 'key_sealed' ? 'encrypted' : 'sha256', logging: 'never',
    })),
    {
      location: { table: 'licences', column: 'customer_id' }, subjects: ['customer'], category: 'user.unique_id',
      label: 'Which customer account owns the licence', purposes: ['licensing'], source: 'data_subject', provision: 'contractual',
      recipients: [], retention: LICENCE_TERM, onErasure: 'null', access: true, portable: false, identity: 'customer_id',
      protection: 'plain', logging: 'allowed',
    },
    {
      location: { table: 'licences', column: 'customer_email' }, subjects: ['customer'], category: 'user.contact.email',
      label: 'Email address the licence was issued to', purposes: ['licensing'], source: 'staff', provision: 'contractual',
      recipients: [], retention: LICENCE_TERM, onErasure: 'null', access: true, portable: true, identity: 'email',
      protection: 'plain', logging: 'masked',
    },
    installation('machines', 'computer_id', {
      category: 'user.device.device_id', label: 'Computer ID (a keyed hash that does not identify a person)', purposes: ['licensing'],
      retention: { period: 'P0D', from: 'account_closure', rationale: 'Kept while the licence is active, so seats can be counted.' }, onErasure: 'delete',
    }),
    installation('machines', 'last_ip', {
      category: 'user.device.ip_address', label: 'External IP address of the last call home', purposes: ['misuse'],
      retention: { period: 'P30D', from: 'collection', rationale: 'After 30 days only its network (IPv4 /24, IPv6 /48) is kept, enough to see where a licence is used.' },
      onErasure: 'truncate_ip',
    }),
    installation('machines', 'last_version', {
      category: 'user.telemetry', label: 'Software version in use', purposes: ['licensing'], retention: LICENCE_TERM, onErasure: 'delete',
    }),
    installation('machines', 'last_users_in_use', {
      category: 'user.telemetry', label: 'Number of users in use', purposes: ['licensing'], retention: LICENCE_TERM, onErasure: 'delete',
    }),
    ...(['first_seen', 'last_seen'] as const).map((column) => installation('machines', column, {
      category: 'user.telemetry', label: column === 'first_seen' ? 'When the computer first called home' : 'When the computer last called home',
      purposes: ['licensing'],
      retention: { period: 'P0D', from: 'account_closure', rationale: 'Kept with the computer ID while the licence exists: they decide whether the computer holds a seat, and show the vendor every PC that has used the licence.' },
      onErasure: 'delete',
    })),
    ...(['version', 'calls', 'max_users_in_use'] as const).map((column) => installation('callhome_daily', column, {
      category: 'user.telemetry', label: 'Daily count of calls home, per version, with the highest number of users in use',
      purposes: ['licensing'], retention: LICENCE_TERM, onErasure: 'delete', access: false,
    })),
    {
      location: { table: 'licence_networks', column: 'network' }, subjects: ['installed_software', 'customer'], category: 'user.device.ip_address',
      label: 'Networks (IPv4 /24, IPv6 /48) a licence was used from', purposes: ['misuse'], source: 'installed_software', provision: 'contractual',
      recipients: [], retention: { period: 'P30D', from: 'last_activity', rationale: 'The abuse signals look back 30 days; older networks are deleted.' },
      onErasure: 'delete', access: true, portable: false, identity: 'licence_id', protection: 'plain', logging: 'never',
    },
    ...(['first_seen', 'last_seen'] as const).map((column): PersonalField => ({
      location: { table: 'licence_networks', column }, subjects: ['installed_software', 'customer'], category: 'user.telemetry',
      label: 'When a licence was first and last used from a network', purposes: ['misuse'], source: 'installed_software', provision: 'contractual',
      recipients: [], retention: { period: 'P30D', from: 'last_activity', rationale: 'Deleted with the network row.' },
      onErasure: 'delete', access: true, portable: false, identity: 'licence_id', protection: 'plain', logging: 'never',
    })),
    {
      location: { table: 'licence_self_releases', column: 'released_at' }, subjects: ['customer'], category: 'user.behavior',
      label: 'When you released a computer from a licence in My account', purposes: ['licensing'], source: 'data_subject', provision: 'contractual',
      recipients: [], retention: { period: 'P31D', from: 'collection', rationale: 'Needed only to count this month\'s releases against the monthly limit; deleted after 31 days (who released it stays in the audit log).' },
      onErasure: 'delete', access: true, portable: false, identity: 'licence_id', protection: 'plain', logging: 'allowed',
    },
  ],
  notPersonal: [
    ...notPersonal('products', ['id', 'code', 'name', 'created_at'], 'The vendor\'s products.'),
    ...notPersonal('licences', ['id', 'product_id', 'order_id', 'status', 'max_users', 'max_machines', 'expires_at', 'maintenance_until', 'policy', 'created_at', 'updated_at'],
      'The terms of a licence: what it allows and until when.'),
    ...notPersonal('addons', ['id', 'product_id', 'code', 'name', 'created_at'], 'The vendor\'s add-ons.'),
    ...notPersonal('licence_addons', ['licence_id', 'addon_id', 'until'], 'Which add-ons a licence includes, and until when.'),
    ...notPersonal('machines', ['licence_id', 'status'], 'Random licence id and the seat status the vendor sets.'),
    ...notPersonal('releases', ['id', 'product_id', 'channel', 'version', 'released_at', 'security', 'notes', 'file_sha256', 'file_size', 'file_path', 'file_name', 'created_at'],
      'The vendor\'s releases.'),
    ...notPersonal('content_packs', ['id', 'addon_id', 'version', 'file_sha256', 'file_size', 'file_path', 'file_name', 'created_at'], 'The vendor\'s content packs.'),
    ...notPersonal('licence_networks', ['licence_id'], 'Random licence id.'),
    ...notPersonal('callhome_daily', ['day', 'licence_id'], 'The day and random licence id a counter belongs to.'),
    ...notPersonal('licence_self_releases', ['id', 'licence_id'], 'Random ids of a release and of the licence it was made on.'),
  ],
};
