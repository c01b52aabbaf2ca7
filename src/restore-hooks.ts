import type { Kernel } from './kernel/context.js';
import { reapplyErasureJournal } from './modules/privacy/index.js';

/**
 * Work that must follow a restore from backup: the privacy module re-applies its erasure journal here,
 * so a person erased after the backup was taken does not come back. Returns how many erasures were
 * re-applied.
 */
export async function afterRestore(k: Kernel): Promise<number> {
  return reapplyErasureJournal(k);
}
