import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { PaymentsService } from './payments.service.js';

/**
 * POST /webhooks/stripe. The signature covers the exact bytes Stripe sent, so this context keeps the
 * body raw (a Buffer) instead of parsing JSON. No session, no CSRF token: the signature is the check.
 */
export function registerStripeWebhook(app: FastifyInstance, payments: PaymentsService): void {
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));
  app.post('/webhooks/stripe', {
    config: { csrf: 'skip' },
    schema: { response: { 200: Type.Object({ received: Type.Boolean(), duplicate: Type.Boolean() }) } },
  }, async (request) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const r = await payments.handleStripeWebhook(body, request.headers['stripe-signature']);
    return { received: true, duplicate: r.duplicate };
  });
}
