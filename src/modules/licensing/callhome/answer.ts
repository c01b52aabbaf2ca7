// Turns a Decision into the JSON body of the contract (spec/callhome.md, "Answer"): dates as ISO
// strings, files as signed download URLs, and fields present exactly when the contract says.

import type { Decision, FoundDecisionBase, LicenceFileDecision, LicenceView } from '../validation/evaluate.js';
import type { ContentOffer, UpdateOffer } from '../validation/offers.js';
import type { DownloadUrls, SignedDownload } from './download-urls.js';
import { isoOrNull, isoString } from '../../../kernel/text/iso-date.js';

export interface LicenceJson {
  product: string;
  status: string;
  maxUsers: number | null;
  maxMachines: number | null;
  expiresAt: string | null;
  maintenanceUntil: string | null;
  addons: { code: string; until: string | null; active: boolean }[];
}

export type UpdateJson =
  | { available: false }
  | {
      available: true;
      version: string;
      channel: string;
      releasedAt: string;
      security: boolean;
      entitled: boolean;
      notes: string | null;
      download?: SignedDownload;
    };

export type ContentJson =
  | ({ available: true; version: string } & SignedDownload)
  | { available: false; reason?: 'NOT_ENTITLED' };

export interface AnswerJson {
  ts: string;
  nonce: string;
  valid: boolean;
  code: string;
  detail: string;
  flags: string[];
  licence?: LicenceJson;
  machines?: { active: number; max: number | null };
  update?: UpdateJson;
  content?: Record<string, ContentJson>;
  nextCheckSeconds: number;
  offlineUntil?: string;
}

export interface RenderContext {
  nonce: string;
  now: number;
  /** The licence the downloads are bound to (null for NOT_FOUND, which offers none). */
  licenceId: string | null;
  urls: DownloadUrls;
}

export function licenceJson(v: LicenceView): LicenceJson {
  return {
    product: v.product,
    status: v.status,
    maxUsers: v.maxUsers,
    maxMachines: v.maxMachines,
    expiresAt: isoOrNull(v.expiresAt),
    maintenanceUntil: isoOrNull(v.maintenanceUntil),
    addons: v.addons.map((a) => ({ code: a.code, until: isoOrNull(a.until), active: a.active })),
  };
}

/** The `/callhome` answer. One object literal, fields in the contract's order (no spreads: this runs on every call). */
export function renderCallhome(decision: Decision, ctx: RenderContext): AnswerJson {
  const ts = isoString(ctx.now);
  if (decision.code === 'NOT_FOUND') {
    return { ts, nonce: ctx.nonce, valid: decision.valid, code: decision.code, detail: decision.detail, flags: [...decision.flags], nextCheckSeconds: decision.nextCheckSeconds };
  }
  const found = decision as Extract<Decision, { update: UpdateOffer }>;
  const answer: AnswerJson = {
    ts,
    nonce: ctx.nonce,
    valid: found.valid,
    code: found.code,
    detail: found.detail,
    flags: [...found.flags],
    licence: licenceJson(found.licence),
    machines: { active: found.machines.active, max: found.machines.max },
    update: updateJson(found.update, ctx),
    content: contentJson(found.content, ctx),
    nextCheckSeconds: found.nextCheckSeconds,
  };
  if (found.offlineUntil !== null) answer.offlineUntil = isoString(found.offlineUntil.getTime());
  return answer;
}

/** A `/licence-file` refusal: the fields of a call-home answer except `update` and `offlineUntil`. */
export function renderLicenceFileRefusal(decision: LicenceFileDecision, ctx: RenderContext): AnswerJson {
  const head = answerHead(decision, ctx);
  if (decision.code === 'NOT_FOUND') return { ...head, nextCheckSeconds: decision.nextCheckSeconds };
  const found = decision as FoundDecisionBase;
  return { ...head, ...foundParts(found, ctx), content: contentJson(found.content, ctx), nextCheckSeconds: found.nextCheckSeconds };
}

function answerHead(d: Decision | LicenceFileDecision, ctx: RenderContext) {
  return { ts: isoString(ctx.now), nonce: ctx.nonce, valid: d.valid, code: d.code, detail: d.detail, flags: [...d.flags] };
}

function foundParts(d: FoundDecisionBase, _ctx: RenderContext) {
  return { licence: licenceJson(d.licence), machines: { active: d.machines.active, max: d.machines.max } };
}

function updateJson(u: UpdateOffer, ctx: RenderContext): UpdateJson {
  if (!u.available) return { available: false };
  return {
    available: true,
    version: u.version,
    channel: u.channel,
    releasedAt: isoString(u.releasedAt.getTime()),
    security: u.security,
    entitled: u.entitled,
    notes: u.notes,
    // `download` exists only when entitled and a file was uploaded (offers.ts); the licence id is
    // always known for a found licence.
    ...(u.download !== null && ctx.licenceId !== null ? { download: ctx.urls.sign(u.download, ctx.licenceId, ctx.now) } : {}),
  };
}

function contentJson(offers: Readonly<Record<string, ContentOffer>>, ctx: RenderContext): Record<string, ContentJson> {
  // No prototype: add-on codes are keys, and `__proto__` must stay an ordinary one.
  const out: Record<string, ContentJson> = Object.create(null);
  for (const code of Object.keys(offers)) {
    const o = offers[code];
    if (o.available && ctx.licenceId !== null) {
      out[code] = { available: true, version: o.version, ...ctx.urls.sign(o.download, ctx.licenceId, ctx.now) };
    } else {
      out[code] = 'reason' in o ? { available: false, reason: o.reason } : { available: false };
    }
  }
  return out;
}
