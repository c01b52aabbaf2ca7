// Licensing's tables (see migrations/ for the frozen DDL). Times are epoch milliseconds; booleans 0/1.

import type { MachineStatus, VendorStatus } from './validation/snapshot.js';

export interface ProductsTable {
  id: string;
  /** What installed programs send as `product`; unique and never changed. */
  code: string;
  name: string;
  created_at: number;
}

export interface LicencesTable {
  id: string;
  product_id: string;
  /** HMAC-SHA256 of the normalised key (validation/keys.ts), for look-up. */
  key_hash: string;
  /** The formatted key sealed with the master secret, so its owner (and staff) can be shown it again. */
  key_sealed: string;
  /** Set by the shop when a customer account owns the licence; null for licences made by staff. */
  customer_id: string | null;
  /** Whom staff issued the licence to, when given through the admin API. */
  customer_email: string | null;
  /** The shop order that paid for the licence; null for licences made by staff. */
  order_id: string | null;
  status: VendorStatus;
  max_users: number | null;
  max_machines: number | null;
  expires_at: number | null;
  maintenance_until: number | null;
  /** JSON of the policy fields staff set; missing ones take the contract's defaults. */
  policy: string;
  created_at: number;
  updated_at: number;
}

export interface AddonsTable {
  id: string;
  product_id: string;
  code: string;
  name: string;
  created_at: number;
}

export interface LicenceAddonsTable {
  licence_id: string;
  addon_id: string;
  /** null: no end. */
  until: number | null;
}

export interface MachinesTable {
  licence_id: string;
  /** HMAC of the machine's own identifier computed by the client; 64 lowercase hex. */
  computer_id: string;
  status: MachineStatus;
  /** null only for a computer ID staff blocked before it ever called. */
  first_seen: number | null;
  last_seen: number | null;
  last_version: string | null;
  last_users_in_use: number | null;
  /** The external IP of the last call; cut to its network (a.b.c.0/24, x:y:z::/48) after the retention period. */
  last_ip: string | null;
}

export interface ReleasesTable {
  id: string;
  product_id: string;
  channel: 'stable' | 'beta';
  version: string;
  released_at: number;
  security: number;
  notes: string | null;
  file_sha256: string | null;
  file_size: number | null;
  /** Relative to the data directory, e.g. `files/ab/ab12…`. */
  file_path: string | null;
  file_name: string | null;
  created_at: number;
}

export interface ContentPacksTable {
  id: string;
  addon_id: string;
  version: string;
  file_sha256: string;
  file_size: number;
  file_path: string;
  file_name: string;
  created_at: number;
}

/** Networks (never full addresses) a licence was used from, for the abuse signals; kept 30 days. */
export interface LicenceNetworksTable {
  licence_id: string;
  network: string;
  first_seen: number;
  last_seen: number;
}

/** Call-home volume per UTC day, licence and reported version, for the admin dashboard. */
export interface CallhomeDailyTable {
  /** Epoch ms of the UTC midnight starting the day. */
  day: number;
  /** '' for calls whose key matched no licence. */
  licence_id: string;
  version: string;
  calls: number;
  max_users_in_use: number | null;
}

/** A machine a customer released from My account (who is in the audit log); counts towards the monthly limit. */
export interface LicenceSelfReleasesTable {
  id: string;
  licence_id: string;
  released_at: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    licence_self_releases: LicenceSelfReleasesTable;
    products: ProductsTable;
    licences: LicencesTable;
    addons: AddonsTable;
    licence_addons: LicenceAddonsTable;
    machines: MachinesTable;
    releases: ReleasesTable;
    content_packs: ContentPacksTable;
    licence_networks: LicenceNetworksTable;
    callhome_daily: CallhomeDailyTable;
  }
}
