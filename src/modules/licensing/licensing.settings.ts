// Call-home operational settings: rate limits and the IP retention period. Defaults come from the
// environment (validated once at start, with fix-it messages); staff may override them at run time in
// the `licensing.callhome` setting, which every node re-reads within a few seconds.

import { ConfigError } from '../../kernel/config/config.js';
import type { Settings } from '../../kernel/settings/settings.js';
import { RATE_LIMIT_DEFAULTS, type RateLimits } from './callhome/rate-limit.js';
import { withPolicyDefaults, type Policy } from './validation/snapshot.js';

export interface CallhomeSettings extends RateLimits {
  /** Days after which a machine's last IP is cut to its network. */
  ipRetentionDays: number;
}

export const SETTINGS_KEY = 'licensing.callhome';

const ENV: Record<keyof CallhomeSettings, { name: string; min: number; max: number; help: string }> = {
  perLicence: { name: 'KEYWARD_CALLHOME_RATE_LICENCE', min: 1, max: 1_000_000, help: 'calls accepted per licence per window (default 30)' },
  perIp: { name: 'KEYWARD_CALLHOME_RATE_IP', min: 1, max: 100_000_000, help: 'calls accepted per external IP per window (default 600)' },
  windowSeconds: { name: 'KEYWARD_CALLHOME_RATE_WINDOW', min: 1, max: 3600, help: 'the rate-limit window in seconds (default 60)' },
  ipRetentionDays: { name: 'KEYWARD_CALLHOME_IP_RETENTION_DAYS', min: 1, max: 3650, help: 'days before a call-home IP is cut to its network' },
};

export const CALLHOME_DEFAULTS: CallhomeSettings = Object.freeze({ ...RATE_LIMIT_DEFAULTS, ipRetentionDays: 30 });

/** Reads the defaults from the environment; throws ConfigError naming every bad variable. */
export function callhomeSettingsFromEnv(env: Record<string, string | undefined> = process.env): CallhomeSettings {
  const problems: string[] = [];
  const out: CallhomeSettings = { ...CALLHOME_DEFAULTS };
  for (const key of Object.keys(ENV) as (keyof CallhomeSettings)[]) {
    const spec = ENV[key];
    const raw = env[spec.name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < spec.min || n > spec.max) {
      problems.push(`${spec.name}="${raw}" must be a whole number from ${spec.min} to ${spec.max}: ${spec.help}.`);
    } else {
      out[key] = n;
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/**
 * The settings now in force: the stored override (staff), field by field, over the defaults. A stored
 * value of the wrong type or out of range is ignored, so a bad edit cannot switch limits off.
 */
export async function currentCallhomeSettings(settings: Settings, defaults: CallhomeSettings): Promise<CallhomeSettings> {
  return mergeCallhomeSettings(await settings.get<StoredCallhomeSettings>(SETTINGS_KEY, {}), defaults);
}

/** The same from the settings cache alone: undefined when it would take a read. */
export function callhomeSettingsNow(settings: Settings, defaults: CallhomeSettings): CallhomeSettings | undefined {
  const stored = settings.peek<StoredCallhomeSettings>(SETTINGS_KEY, NOTHING_STORED);
  if (stored === undefined) return undefined;
  let byStored = mergedSettings.get(defaults);
  if (!byStored) mergedSettings.set(defaults, (byStored = new WeakMap()));
  return onceFor(byStored, stored, () => mergeCallhomeSettings(stored, defaults));
}

type StoredCallhomeSettings = Partial<Record<keyof CallhomeSettings, unknown>>;
const NOTHING_STORED = Object.freeze({});

// The settings cache hands out the same stored object until it re-reads the row: each one is merged
// once (per set of defaults), not on every call. Callers only read what they get.
const mergedSettings = new WeakMap<CallhomeSettings, WeakMap<object, CallhomeSettings>>();
const mergedPolicies = new WeakMap<object, Policy>();

function onceFor<T>(memo: WeakMap<object, T>, stored: unknown, merge: () => T): T {
  if (typeof stored !== 'object' || stored === null) return merge();
  let m = memo.get(stored);
  if (m === undefined) memo.set(stored, (m = merge()));
  return m;
}

function mergeCallhomeSettings(stored: StoredCallhomeSettings, defaults: CallhomeSettings): CallhomeSettings {
  const out: CallhomeSettings = { ...defaults };
  for (const key of Object.keys(ENV) as (keyof CallhomeSettings)[]) {
    const v = stored[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= ENV[key].min && v <= ENV[key].max) out[key] = v;
  }
  return out;
}

/**
 * The policy defaults for licences without their own value: the owner's `licensing.policy_defaults`
 * setting (Settings → Policy defaults) over the contract's defaults, field by field. Read through the
 * settings cache, so the call-home path costs no query per request; a bad stored field falls back.
 */
export const POLICY_DEFAULTS_KEY = 'licensing.policy_defaults';

export async function currentPolicyDefaults(settings: Settings): Promise<Policy> {
  return withPolicyDefaults(await settings.get<unknown>(POLICY_DEFAULTS_KEY, {}));
}

/** The same from the settings cache alone: undefined when it would take a read. */
export function policyDefaultsNow(settings: Settings): Policy | undefined {
  const stored = settings.peek<unknown>(POLICY_DEFAULTS_KEY, NOTHING_STORED);
  return stored === undefined ? undefined : onceFor(mergedPolicies, stored, () => withPolicyDefaults(stored));
}
