// The active Ed25519 signer, held in memory for the hot path and reloaded periodically, so that after
// `bin/keyward keys rotate` (another process) every node switches to the new key within two seconds:
// the check is one indexed select, and a program that fetches /keys right after a rotation should find
// its answers signed by the key listed as active.

import type { Kernel } from '../../../kernel/context.js';
import { ensureSigningKey, loadActiveSigner, type Signer } from '../../../kernel/crypto/signing.js';
import type { CommitmentPool } from '../../../kernel/crypto/commitments.js';

export class SignerHolder {
  private signer: Signer | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly k: Kernel,
    private readonly reloadMs = 2_000,
    /** Commitments made ahead on another thread (null: every signature is made whole, here). */
    private readonly pool: CommitmentPool | null = null,
  ) {}

  /** Loads the active key (making the first one if none exists yet) and starts the periodic check. */
  async start(): Promise<void> {
    await ensureSigningKey(this.k.db, this.k.secrets, this.k.clock.now());
    await this.reload();
    this.pool?.warm();
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.reload().catch((err: unknown) => this.k.log.warn({ err: (err as Error).message }, 'signing key reload failed'));
    }, this.reloadMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pool?.close();
  }

  /** Re-reads the active key; cheap when it has not changed (one indexed select, no unsealing). */
  async reload(): Promise<void> {
    const active = await this.k.db.selectFrom('signing_keys').select('kid').where('status', '=', 'active')
      .orderBy('created_at', 'desc').executeTakeFirst();
    if (active && active.kid === this.signer?.kid) return;
    this.signer = await loadActiveSigner(this.k.db, this.k.secrets, this.pool);
  }

  get kid(): string {
    return this.current().kid;
  }

  /** Raw Ed25519 signature (base64) over exactly these bytes. */
  sign(bytes: Buffer | string): string {
    return this.current().sign(bytes);
  }

  /** `Keyward-Signature: keyid="…", algorithm="ed25519", signature="…"` over the exact body bytes. */
  header(body: Buffer | string): string {
    const s = this.current();
    return `keyid="${s.kid}", algorithm="ed25519", signature="${s.sign(body)}"`;
  }

  private current(): Signer {
    if (!this.signer) throw new Error('the signing key is not loaded yet (SignerHolder.start)');
    return this.signer;
  }
}
