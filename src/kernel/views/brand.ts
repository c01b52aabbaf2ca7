import type { Settings } from '../settings/settings.js';

/** The vendor's identity on public pages and emails; edited in the admin settings. */
export interface Brand {
  name: string;
  tagline: string;
  /** CSS colour for links and buttons, validated as #rrggbb when saved. */
  primaryColor: string;
  supportEmail: string;
  address: string;
  footerText: string;
  showPoweredBy: boolean;
}

export const BRAND_SETTING = 'vendor.brand';

export const defaultBrand: Brand = {
  name: 'Your Software Ltd',
  tagline: 'Software that runs your business',
  primaryColor: '#1d4ed8',
  supportEmail: 'support@example.com',
  address: '1 High Street, Huddersfield, HD1 1AA, United Kingdom',
  footerText: '',
  showPoweredBy: true,
};

export async function loadBrand(settings: Settings): Promise<Brand> {
  return { ...defaultBrand, ...(await settings.get<Partial<Brand>>(BRAND_SETTING, {})) };
}
