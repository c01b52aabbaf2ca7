import type { Kernel } from '../../kernel/context.js';
import type { Db } from '../../kernel/db/database.js';
import { renderEmail } from '../../kernel/mail/template.js';
import { loadBrand } from '../../kernel/views/brand.js';

/** The account emails. Each says why it was sent; none contains a password or anything secret but the link. */
export async function sendAccountMail(
  k: Kernel, to: string, subject: string, heading: string, paragraphs: string[],
  action: { label: string; url: string } | undefined, reason: string, trx?: Db,
): Promise<void> {
  const brand = await loadBrand(k.settings);
  const { text, html } = renderEmail({ brandName: brand.name, heading, paragraphs, action, reason, senderAddress: brand.address });
  await k.mail.send({ to, subject: `${subject} · ${brand.name}`, text, html, category: 'account' }, trx);
}
