// Installer and content files, stored once per content under `<dataDir>/files/<aa>/<sha256>`:
// the SHA-256 that answers carry is also the file's name, so a stored file cannot drift from it.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';

export interface StoredFile {
  sha256: string;
  size: number;
  /** Relative to the data directory. */
  path: string;
  name: string;
}

/** Streams `source` to the data directory while hashing it; returns where it landed. */
export async function storeFile(dataDir: string, source: Readable, name: string): Promise<StoredFile> {
  const dir = path.join(dataDir, 'files');
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const tmp = path.join(dir, 'tmp', `${crypto.randomUUID()}.part`);
  const hash = crypto.createHash('sha256');
  let size = 0;
  try {
    await pipeline(source, async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }, fs.createWriteStream(tmp, { flags: 'wx' }));
    const sha256 = hash.digest('hex');
    const rel = path.join('files', sha256.slice(0, 2), sha256);
    fs.mkdirSync(path.join(dataDir, 'files', sha256.slice(0, 2)), { recursive: true });
    // The same bytes uploaded twice share one file; rename is atomic, so a reader never sees half a file.
    fs.renameSync(tmp, path.join(dataDir, rel));
    return { sha256, size, path: rel, name: safeFileName(name) };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The absolute path of a stored file. */
export function storedPath(dataDir: string, rel: string): string {
  return path.join(dataDir, rel);
}

/** A name safe in a URL path segment and a Content-Disposition header. */
export function safeFileName(name: string): string {
  const base = path.basename(name || 'download').replace(/[^A-Za-z0-9._+-]+/g, '_').replace(/^\.+/, '');
  return base.slice(0, 120) || 'download';
}
