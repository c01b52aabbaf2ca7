// GET /downloads/...: installers and content packs behind signed, expiring URLs bound to a licence
// (callhome/download-urls.ts). Outside /api/v1, so not signed as answers: the sha256 inside the
// signed answer covers the bytes. Every refusal is the same 403, whatever was wrong.

import fs from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import type { DownloadUrls } from './callhome/download-urls.js';
import { storedPath } from './files.js';

const SIGNED_QUERY = /^l=([A-Za-z0-9._~%-]+)&e=[1-9]\d{0,11}&s=[A-Za-z0-9_-]+$/;
const DENIED = { error: { code: 'FORBIDDEN', message: 'This download link has expired or is not valid for a current licence. Check for updates again to get a new one.' } };

export async function registerDownloads(app: FastifyInstance, k: Kernel, urls: DownloadUrls): Promise<void> {
  await app.register(async (dl) => {
    dl.get('/downloads/*', async (request, reply) => {
      const now = k.clock.now();
      // The query must be exactly what was signed (`l`, `e`, `s`, in that order, nothing added): any change
      // to the URL is a 403, not only a change to the signed parts.
      const q = request.url.indexOf('?');
      const signed = q < 0 ? null : SIGNED_QUERY.exec(request.url.slice(q + 1));
      const query = request.query as Record<string, unknown>;
      // `l` as sent must be `l` as signed: a percent-encoded spelling of the same id is a changed URL too.
      if (!signed || typeof query.l !== 'string' || encodeURIComponent(query.l) !== signed[1]) return deny(reply);
      const target = urls.verify(request.url.slice(0, q), query, now);
      if (!target) return deny(reply);
      const file = target.kind === 'r' ? await releaseFile(k, target.id, target.licenceId, now) : await contentFile(k, target.id, target.licenceId, now);
      if (!file) return deny(reply);
      const abs = storedPath(k.config.dataDir, file.path);
      let size: number;
      try {
        size = fs.statSync(abs).size;
      } catch {
        return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'The file is missing on the server.' } });
      }
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(size))
        .header('content-disposition', `attachment; filename="${file.name}"`)
        .header('cache-control', 'private, no-store')
        .send(fs.createReadStream(abs));
    });
  });
}

function deny(reply: FastifyReply) {
  return reply.code(403).type('application/json; charset=utf-8').send(DENIED);
}

/** The licence still valid now: the vendor has not revoked or suspended it and it has not expired. */
async function validLicence(k: Kernel, licenceId: string, now: number) {
  const l = await k.db.selectFrom('licences').select(['product_id', 'status', 'expires_at', 'maintenance_until'])
    .where('id', '=', licenceId).executeTakeFirst();
  if (!l || l.status !== 'active' || (l.expires_at !== null && now >= Number(l.expires_at))) return null;
  return l;
}

async function releaseFile(k: Kernel, id: string, licenceId: string, now: number) {
  const l = await validLicence(k, licenceId, now);
  if (!l) return null;
  const r = await k.db.selectFrom('releases').select(['product_id', 'released_at', 'file_path', 'file_name'])
    .where('id', '=', id).executeTakeFirst();
  // Still the licence's product and still covered by its maintenance (staff may have shortened it).
  if (!r || r.file_path === null || r.product_id !== l.product_id) return null;
  if (l.maintenance_until !== null && Number(r.released_at) > Number(l.maintenance_until)) return null;
  return { path: r.file_path, name: r.file_name ?? 'download' };
}

async function contentFile(k: Kernel, id: string, licenceId: string, now: number) {
  if (!(await validLicence(k, licenceId, now))) return null;
  const c = await k.db.selectFrom('content_packs as c')
    .innerJoin('licence_addons as la', (j) => j.onRef('la.addon_id', '=', 'c.addon_id').on('la.licence_id', '=', licenceId))
    .select(['c.file_path', 'c.file_name', 'la.until'])
    .where('c.id', '=', id).executeTakeFirst();
  // The add-on must still be held and its `until` not passed.
  if (!c || (c.until !== null && now >= Number(c.until))) return null;
  return { path: c.file_path, name: c.file_name };
}
