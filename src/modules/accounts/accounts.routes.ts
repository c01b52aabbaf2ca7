import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

/** The admin API's account routes: who am I (lets a script check its key). */
export function registerAccountsApi(app: FastifyInstance): void {
  app.get('/api/v1/admin/whoami', {
    schema: { response: { 200: Type.Object({ apiKey: Type.Object({ id: Type.String(), name: Type.String() }) }) } },
  }, async (request) => ({ apiKey: request.apiKey! }));
}
