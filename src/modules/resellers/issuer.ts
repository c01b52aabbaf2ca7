import type { LicenceIssuer } from '../orders/index.js';
import { endCustomerOf } from './resellers.service.js';

/**
 * Wraps the shop's licence issuer so a licence sold by a reseller carries the end customer's email
 * (the name, company and country are kept with the sale); the reseller's account stays its owner, so
 * the reseller sees and renews the licences it sold. Other orders pass through unchanged.
 */
export function withResellerEndCustomers(inner: LicenceIssuer): LicenceIssuer {
  return {
    async issue(trx, req) {
      const end = await endCustomerOf(trx, req.orderId);
      return inner.issue(trx, end ? { ...req, customerEmail: end.end_email } : req);
    },
    raiseTier: (trx, id, c) => inner.raiseTier(trx, id, c),
    extendMaintenance: (trx, id, c) => inner.extendMaintenance(trx, id, c),
    setAddon: (trx, id, a) => inner.setAddon(trx, id, a),
    find: (db, id) => inner.find(db, id),
    listForCustomer: (db, id) => inner.listForCustomer(db, id),
  };
}
