// The privacy notice's settings that the vendor edits (spec/privacy-registry.md: "The controller's details
// ... and the processors are settings the vendor edits"): Admin → Settings saves them, the notice, the
// record of processing and the erasure's processor notices read them here.

import type { Kernel } from '../../kernel/context.js';
import type { Processor } from '../../kernel/privacy/types.js';
import { defaultController, type Controller } from './notice.js';
import { defaultProcessors } from './registry.js';

export const CONTROLLER_SETTING = 'privacy.controller';
export const PROCESSORS_SETTING = 'privacy.processors';

/**
 * Who receives personal data, as the vendor describes them: saved details over the defaults, by id. The
 * ids are the declarations' (a field's recipients name them), so the list always has exactly these.
 */
export async function loadProcessors(settings: Kernel['settings']): Promise<Processor[]> {
  const saved = await settings.get<Array<Partial<Processor> & { id: string }>>(PROCESSORS_SETTING, []);
  return defaultProcessors.map((d) => ({ ...d, ...(saved.find((p) => p.id === d.id) ?? {}), id: d.id, role: d.role, erasure: d.erasure }));
}

/** The controller the notice names: the vendor's saved details over the defaults. */
export async function loadController(settings: Kernel['settings']): Promise<Controller> {
  return { ...defaultController, ...(await settings.get<Partial<Controller>>(CONTROLLER_SETTING, {})) };
}
