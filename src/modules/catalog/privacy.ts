import { notPersonal, type PrivacyDeclarations } from '../../kernel/privacy/types.js';

/** The catalogue holds no personal data: products, tiers, plans, prices and coupon codes. */
export const catalogPrivacy: PrivacyDeclarations = {
  module: 'catalog',
  fields: [],
  notPersonal: [
    ...notPersonal('catalog_products', ['id', 'code', 'name', 'description', 'active', 'sort', 'created_at', 'updated_at'], 'The vendor\'s products.'),
    ...notPersonal('catalog_editions', ['id', 'product_id', 'code', 'name', 'sort', 'active'], 'Product editions.'),
    ...notPersonal('catalog_tiers', ['id', 'product_id', 'max_users', 'label', 'rank', 'active'], 'User tiers of a product.'),
    ...notPersonal('catalog_plans', ['id', 'sku', 'product_id', 'edition_id', 'kind', 'tier_id', 'from_tier_id', 'addon_code', 'name', 'term_months', 'active', 'sort', 'created_at', 'updated_at'], 'What the vendor sells.'),
    ...notPersonal('catalog_prices', ['plan_id', 'currency', 'amount', 'updated_at'], 'List prices.'),
    ...notPersonal('catalog_coupons', ['id', 'code', 'percent_off', 'valid_from', 'valid_until', 'active', 'created_at'], 'Coupon codes the vendor publishes; not tied to anyone.'),
  ],
};
