// Admin API: releases (JSON, or multipart with the installer), add-ons and content packs (multipart).

import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { badRequest } from '../../../kernel/http/errors.js';
import type { CatalogService, ReleaseInput } from '../catalog.service.js';
import type { LicencesService } from '../licences.service.js';
import { actorOf } from './licences.routes.js';
import { formBoolean, parseDate, readMultipart } from './input.js';
import { AddonInput, AddonOutput, ContentOutput, ReleaseOutput } from './schemas.js';

export function registerCatalogRoutes(api: FastifyInstance, catalog: CatalogService, licences: LicencesService, dataDir: string): void {
  // One route for both forms, so its body is checked here rather than by a JSON schema.
  api.post<{ Params: { product: string } }>('/api/v1/admin/products/:product/releases', {
    schema: { response: { 201: ReleaseOutput } },
  }, async (request, reply) => {
    await licences.productId(request.params.product); // 404 before any upload is stored
    let raw: Record<string, unknown>;
    let file = null;
    if (request.isMultipart()) {
      const body = await readMultipart(request, dataDir);
      raw = { ...body.fields, security: formBoolean(body.fields.security, 'security') };
      if (body.fields.notes === '') raw.notes = null;
      file = body.file;
    } else {
      if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
        throw badRequest('The body must be a JSON object.', 'body');
      }
      raw = request.body as Record<string, unknown>;
    }
    const release = await catalog.createRelease(request.params.product, releaseInput(raw), file, actorOf(request));
    return reply.code(201).send(release);
  });

  api.post<{ Body: Static<typeof AddonInput> }>('/api/v1/admin/addons', {
    schema: { body: AddonInput, response: { 201: AddonOutput } },
  }, async (request, reply) => reply.code(201).send(await catalog.createAddon(request.body, actorOf(request))));

  api.post<{ Params: { code: string } }>('/api/v1/admin/addons/:code/content', {
    schema: { response: { 201: ContentOutput } },
  }, async (request, reply) => {
    await catalog.requireAddon(request.params.code); // 404 before any upload is stored
    if (!request.isMultipart()) throw badRequest('Send multipart/form-data with the fields version and file.', 'body');
    const { fields, file } = await readMultipart(request, dataDir);
    if (typeof fields.version !== 'string' || fields.version === '') throw badRequest('version is required', 'version');
    if (!file) throw badRequest('file is required', 'file');
    return reply.code(201).send(await catalog.createContentPack(request.params.code, fields.version, file, actorOf(request)));
  });
}

function releaseInput(raw: Record<string, unknown>): ReleaseInput {
  const { version, channel = 'stable', releasedAt, security = false, notes = null } = raw;
  if (typeof version !== 'string') throw badRequest(version === undefined ? 'version is required' : 'version must be a string', 'version');
  if (channel !== 'stable' && channel !== 'beta') throw badRequest('channel must be "stable" or "beta"', 'channel');
  if (typeof security !== 'boolean') throw badRequest('security must be true or false', 'security');
  if (notes !== null && (typeof notes !== 'string' || notes.length > 20_000)) throw badRequest('notes must be text of at most 20,000 characters, or null', 'notes');
  const at = parseDate(releasedAt, 'releasedAt');
  if (at === null) throw badRequest('releasedAt must be a date-time when given', 'releasedAt');
  return { version, channel, security, notes, ...(at !== undefined ? { releasedAt: at } : {}) };
}
