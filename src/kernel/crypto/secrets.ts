import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * One 32-byte master secret per deployment. Every use gets its own sub-key (HKDF with a purpose label),
 * so a token for one purpose can never be replayed as another.
 */
export class Secrets {
  private readonly subkeys = new Map<string, Buffer>();
  constructor(private readonly master: Buffer) {
    if (master.length !== 32) throw new Error('master secret must be 32 bytes');
  }

  key(purpose: string): Buffer {
    let k = this.subkeys.get(purpose);
    if (!k) {
      k = Buffer.from(crypto.hkdfSync('sha256', this.master, Buffer.alloc(0), `keyward:${purpose}`, 32));
      this.subkeys.set(purpose, k);
    }
    return k;
  }

  hmac(purpose: string, data: string | Buffer): Buffer {
    return crypto.createHmac('sha256', this.key(purpose)).update(data).digest();
  }

  hmacB64(purpose: string, data: string | Buffer): string {
    return this.hmac(purpose, data).toString('base64url');
  }

  /** AES-256-GCM: `v1.<iv>.<ciphertext>.<tag>`, each base64url. The purpose is bound as associated data. */
  seal(purpose: string, plaintext: string | Buffer): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key('seal'), iv);
    cipher.setAAD(Buffer.from(purpose));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return ['v1', iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(purpose: string, sealed: string): Buffer {
    const [v, iv, ct, tag] = sealed.split('.');
    if (v !== 'v1' || !iv || ct === undefined || !tag) throw new Error('not a sealed value');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key('seal'), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    } catch {
      // Node says only "unable to authenticate data": name the likely cause and the way out.
      throw new Error(MASTER_KEY_MISMATCH);
    }
  }
}

export const MASTER_KEY_MISMATCH = 'A value stored encrypted cannot be opened with this master key: KEYWARD_SECRET_KEY (or secret.key in the data directory) is not the one this database was made with. Use the original key (keep it with your backups), or restore the database that goes with this key.';

/** The master secret comes from KEYWARD_SECRET_KEY, else a file made once in the data directory. */
export function loadSecrets(opts: { secretKeyHex?: string; dataDir: string }): Secrets {
  if (opts.secretKeyHex) return new Secrets(Buffer.from(opts.secretKeyHex, 'hex'));
  const file = path.join(opts.dataDir, 'secret.key');
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, crypto.randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file} is damaged: it must hold 64 hex characters. Restore it from backup; without it, encrypted values cannot be read.`);
  return new Secrets(Buffer.from(hex, 'hex'));
}
