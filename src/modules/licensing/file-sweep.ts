// The daily sweep of stored installer and content files that nothing refers to. A file is stored
// before its row is written (the upload streams to disk first), so an upload refused after that (a
// duplicate version: 409, a bad field after the file part: 400), a release or pack deleted by staff,
// or a crash mid-upload leaves a file behind; files are shared by SHA-256, so one cannot be deleted
// at the moment its own row fails (another row may hold the same bytes, or be about to).
// Only files older than a day go: an upload in flight has its file a few milliseconds before its row.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kernel } from '../../kernel/context.js';
import { DAY_MS } from '../../kernel/clock.js';

/** How old an unreferenced file must be before it goes. */
export const SWEEP_MIN_AGE_MS = DAY_MS;

// Only what storeFile writes: files/<aa>/<sha256> and files/tmp/<uuid>.part. Other modules keep
// their own files under files/ (support attachments in files/support) and are left alone.
const SHARD = /^[0-9a-f]{2}$/;
const STORED = /^[0-9a-f]{64}$/;
const PART = /^[0-9a-f-]{36}\.(?:part|sweep)$/;

export async function sweepUnreferencedFiles(k: Kernel): Promise<{ deleted: number; bytes: number }> {
  const root = path.join(k.config.dataDir, 'files');
  const cutoff = k.clock.now() - SWEEP_MIN_AGE_MS;
  const candidates: string[] = [];
  for (const shard of readdir(root)) {
    if (SHARD.test(shard)) {
      for (const name of readdir(path.join(root, shard))) if (STORED.test(name) && name.startsWith(shard)) candidates.push(path.join(shard, name));
    }
  }
  const parts = readdir(path.join(root, 'tmp')).filter((n) => PART.test(n)).map((n) => path.join('tmp', n));
  const old = [...candidates, ...parts].filter((rel) => mtimeOf(path.join(root, rel)) < cutoff);
  if (old.length === 0) return { deleted: 0, bytes: 0 };

  // Read after the listing: a row written since still protects its file.
  const referenced = new Set<string>();
  const [releases, packs] = await Promise.all([
    k.db.selectFrom('releases').select('file_sha256').where('file_sha256', 'is not', null).execute(),
    k.db.selectFrom('content_packs').select('file_sha256').execute(),
  ]);
  for (const r of releases) referenced.add(r.file_sha256!);
  for (const p of packs) referenced.add(p.file_sha256);

  let deleted = 0;
  let bytes = 0;
  for (const rel of old) {
    const inTmp = rel.startsWith('tmp');
    if (!inTmp && referenced.has(path.basename(rel))) continue;
    // A stored file is moved aside before it is deleted: an upload of the same bytes since the listing
    // renamed a fresh file onto this name, and its row may be about to be written. The move is atomic;
    // a fresh file found aside goes back.
    const file = inTmp ? path.join(root, rel) : setAside(root, rel);
    if (file === null) continue;
    if (!inTmp && mtimeOf(file) >= cutoff) {
      putBack(file, path.join(root, rel));
      continue;
    }
    const size = sizeOf(file);
    if (remove(file)) {
      deleted++;
      bytes += size;
    }
  }
  if (deleted > 0) k.log.info({ deleted, bytes }, 'licensing: unreferenced stored files deleted');
  return { deleted, bytes };
}

function setAside(root: string, rel: string): string | null {
  const aside = path.join(root, 'tmp', `${crypto.randomUUID()}.sweep`);
  fs.mkdirSync(path.dirname(aside), { recursive: true });
  try {
    fs.renameSync(path.join(root, rel), aside);
    return aside;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Back under its name, unless an upload has put the same bytes there meanwhile. */
function putBack(aside: string, file: string): void {
  if (fs.existsSync(file)) remove(aside);
  else fs.renameSync(aside, file);
}

function remove(file: string): boolean {
  try {
    fs.rmSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function mtimeOf(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Infinity; // gone meanwhile: nothing to do
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
