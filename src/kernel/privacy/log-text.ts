/**
 * Error text as logs and the job table may keep it: email addresses replaced. SMTP servers quote the
 * recipient in their refusals ("550 5.1.1 <ann@example.com>: Recipient address rejected"), and the log
 * redaction works on field names, not on what a message says. The outbox row keeps the full text; it
 * holds the address anyway.
 */
export function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>"'(),;:[\]]+@[^\s<>"'(),;:[\]]+/g, '[address]');
}
