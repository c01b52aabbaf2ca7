// The navigation every My-account page shows, so a customer can reach everything from anywhere in it.
// Pages of other modules (licences, orders, subscriptions, support, email, privacy) use it too.

export const ACCOUNT_LINKS: { href: string; label: string }[] = [
  { href: '/account', label: 'Overview' },
  { href: '/account/licences', label: 'Licences' },
  { href: '/account/orders', label: 'Orders and invoices' },
  { href: '/account/subscriptions', label: 'Subscriptions' },
  { href: '/account/profile', label: 'Profile and address' },
  { href: '/account/security', label: 'Password and devices' },
  { href: '/account/email', label: 'Email preferences' },
  { href: '/account/tickets', label: 'Support requests' },
  { href: '/account/privacy', label: 'Your data' },
];

/** `current` is the href of the page being shown (marked aria-current). */
export function AccountNav({ current }: { current: string }) {
  return (
    <nav aria-label="My account" class="subnav account-nav">
      <ul>
        {ACCOUNT_LINKS.map((l) => <li><a href={l.href} aria-current={l.href === current ? 'page' : undefined}>{l.label}</a></li>)}
      </ul>
    </nav>
  );
}
