// Admin API: products and licences (spec/callhome.md, "Admin API"). Registered inside the context that
// checks the staff API key; 400/404/409 come from the schemas and the services' errors.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { badRequest } from '../../../kernel/http/errors.js';
import type { Actor, LicenceInput, LicencePatch, LicencesService } from '../licences.service.js';
import type { AbuseService } from '../abuse.service.js';
import { parseDate } from './input.js';
import { typedComputerId } from '../validation/parse-request.js';
import {
  LicenceCreateInput, LicenceFileInput, LicenceOutput, LicencePatchInput, LicenceWithMachinesOutput, ProductInput, ProductOutput,
} from './schemas.js';

type Params = { key: string };
type MachineParams = { key: string; computerId: string };

export function actorOf(request: FastifyRequest): Actor {
  return { kind: 'api_key', id: request.apiKey?.id ?? null, ip: request.ip };
}

export function registerLicenceRoutes(api: FastifyInstance, licences: LicencesService, abuse: AbuseService): void {
  api.post<{ Body: Static<typeof ProductInput> }>('/api/v1/admin/products', {
    schema: { body: ProductInput, response: { 201: ProductOutput } },
  }, async (request, reply) => reply.code(201).send(await licences.createProduct(request.body, actorOf(request))));

  api.post<{ Body: Static<typeof LicenceCreateInput> }>('/api/v1/admin/licences', {
    schema: { body: LicenceCreateInput, response: { 201: LicenceOutput } },
  }, async (request, reply) => {
    const b = request.body;
    const input: LicenceInput = {
      product: b.product,
      maxUsers: b.maxUsers,
      maxMachines: b.maxMachines === undefined ? 1 : b.maxMachines,
      expiresAt: parseDate(b.expiresAt, 'expiresAt') ?? null,
      maintenanceUntil: parseDate(b.maintenanceUntil, 'maintenanceUntil') ?? null,
      addons: (b.addons ?? []).map((a, i) => ({ code: a.code, until: parseDate(a.until, `addons.${i}.until`) ?? null })),
      policy: b.policy ?? {},
      customerEmail: b.customerEmail ?? null,
    };
    return reply.code(201).send(await licences.createLicence(input, actorOf(request)));
  });

  api.get<{ Params: Params }>('/api/v1/admin/licences/:key', {
    schema: { response: { 200: LicenceWithMachinesOutput } },
  }, async (request) => licences.getLicence(request.params.key));

  api.patch<{ Params: Params; Body: Static<typeof LicencePatchInput> }>('/api/v1/admin/licences/:key', {
    schema: { body: LicencePatchInput, response: { 200: LicenceOutput } },
  }, async (request) => {
    const b = request.body;
    const patch: LicencePatch = {
      ...(b.status !== undefined ? { status: b.status } : {}),
      ...(b.maxUsers !== undefined ? { maxUsers: b.maxUsers } : {}),
      ...(b.maxMachines !== undefined ? { maxMachines: b.maxMachines } : {}),
      ...(b.expiresAt !== undefined ? { expiresAt: parseDate(b.expiresAt, 'expiresAt') } : {}),
      ...(b.maintenanceUntil !== undefined ? { maintenanceUntil: parseDate(b.maintenanceUntil, 'maintenanceUntil') } : {}),
      ...(b.addons !== undefined ? { addons: b.addons.map((a, i) => ({ code: a.code, until: parseDate(a.until, `addons.${i}.until`) ?? null })) } : {}),
      ...(b.policy !== undefined ? { policy: b.policy } : {}),
    };
    return licences.updateLicence(request.params.key, patch, actorOf(request));
  });

  api.post<{ Params: MachineParams }>('/api/v1/admin/licences/:key/machines/:computerId/release', {
    schema: { response: { 200: LicenceWithMachinesOutput } },
  }, async (request) => {
    await licences.releaseMachine(request.params.key, computerId(request.params.computerId), actorOf(request));
    return licences.getLicence(request.params.key);
  });

  api.post<{ Params: MachineParams }>('/api/v1/admin/licences/:key/machines/:computerId/block', {
    schema: { response: { 200: LicenceWithMachinesOutput } },
  }, async (request) => {
    await licences.blockMachine(request.params.key, computerId(request.params.computerId), actorOf(request));
    return licences.getLicence(request.params.key);
  });

  // An offline licence file for a computer ID typed in by staff (a site without internet access).
  api.post<{ Params: Params; Body: Static<typeof LicenceFileInput> }>('/api/v1/admin/licences/:key/licence-file', {
    schema: { body: LicenceFileInput },
  }, async (request, reply) => {
    const file = await licences.issueLicenceFile(request.params.key, computerId(request.body.computerId), actorOf(request));
    return reply.type('text/plain; charset=utf-8').send(file.text);
  });

  // Licences that look shared (abuse signals over the last 30 days), for staff to review.
  api.get('/api/v1/admin/licences-shared', async () => ({ licences: await abuse.sharedLicences() }));
}

/** Computer IDs are lowercase hex; staff may paste them in capitals. */
function computerId(value: string): string {
  const id = typedComputerId(value);
  if (id === null) throw badRequest('computerId must be 64 hexadecimal characters', 'computerId');
  return id;
}
