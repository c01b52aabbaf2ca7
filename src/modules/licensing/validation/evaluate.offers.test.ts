// The update and content offers of an answer (spec/callhome.md, "Coverage", "Newest", "Content").

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { evaluate, type EvaluateRequest, type FoundDecision } from './evaluate.js';
import type { LicenceSnapshot, Snapshot } from './snapshot.js';
import { NOW, PACKS, RELEASES, at, buildLicence, buildPack, buildRelease, buildRequest, buildSnapshot } from './test-factories.js';

function decide(opts: { licence?: Partial<LicenceSnapshot>; snapshot?: Partial<Snapshot>; request?: Partial<EvaluateRequest> } = {}): FoundDecision {
  const d = evaluate(buildSnapshot({ licence: buildLicence(opts.licence), ...opts.snapshot }), buildRequest(opts.request), NOW);
  assert.notEqual(d.code, 'NOT_FOUND');
  return d as FoundDecision;
}

describe('update offer', () => {
  it('stable: the newest released stable by SemVer, not a beta, not a scheduled release', () => {
    const u = decide().update;
    assert.ok(u.available);
    assert.equal(u.version, '8.6.0');
    assert.equal(u.channel, 'stable');
    assert.equal(u.entitled, true);
    assert.equal(u.notes, 'Faster IMAP');
    assert.deepEqual(u.download, RELEASES[1].file);
  });

  it('ordered by SemVer precedence, not by date or text', () => {
    const releases = [
      buildRelease({ version: '10.0.0', releasedAt: at('2026-01-01T00:00:00.000Z') }),
      buildRelease({ version: '9.9.9', releasedAt: at('2026-11-01T00:00:00.000Z') }),
    ];
    const u = decide({ snapshot: { releases } }).update;
    assert.ok(u.available && u.version === '10.0.0');
  });

  it('beta: sees the newest beta', () => {
    const u = decide({ request: { channel: 'beta' } }).update;
    assert.ok(u.available && u.version === '8.7.0-beta.1' && u.channel === 'beta');
  });

  it('beta: sees stable too, and update.channel is the offered release’s', () => {
    const releases = [...RELEASES, buildRelease({ version: '8.7.0', releasedAt: at('2026-11-24T00:00:00.000Z') })];
    const u = decide({ snapshot: { releases }, request: { channel: 'beta' } }).update;
    assert.ok(u.available && u.version === '8.7.0' && u.channel === 'stable');
  });

  it('a release dated exactly now is offered; one a millisecond later is not', () => {
    const releases = [buildRelease({ version: '8.6.0', releasedAt: NOW })];
    assert.equal(decide({ snapshot: { releases } }).update.available, true);
    const later = [buildRelease({ version: '8.6.0', releasedAt: new Date(NOW.getTime() + 1) })];
    assert.deepEqual(decide({ snapshot: { releases: later } }).update, { available: false });
  });

  it('running the newest of its channel, or newer: { available: false }', () => {
    assert.deepEqual(decide({ request: { version: '8.6.0' } }).update, { available: false });
    assert.deepEqual(decide({ request: { version: '8.6.1' } }).update, { available: false });
    assert.deepEqual(decide({ request: { version: '8.7.0-beta.1', channel: 'beta' } }).update, { available: false });
    // A stable program on a pre-release newer than every stable has nothing to be offered.
    assert.deepEqual(decide({ request: { version: '8.7.0-beta.1' } }).update, { available: false });
  });

  it('a pre-release is older than its release', () => {
    const releases = [...RELEASES, buildRelease({ version: '8.7.0', releasedAt: at('2026-11-24T00:00:00.000Z') })];
    const u = decide({ snapshot: { releases }, request: { version: '8.7.0-beta.1', channel: 'beta' } }).update;
    assert.ok(u.available && u.version === '8.7.0');
  });

  it('no release at all: { available: false }', () => {
    assert.deepEqual(decide({ snapshot: { releases: [] } }).update, { available: false });
  });

  it('a release after maintenanceUntil is offered but not entitled, without download', () => {
    const u = decide({ licence: { maintenanceUntil: at('2026-10-01T00:00:00.000Z') } }).update;
    assert.ok(u.available && u.version === '8.6.0');
    assert.equal(u.entitled, false);
    assert.equal(u.download, null);
  });

  it('an invalid licence: offered, entitled false, no download', () => {
    const d = decide({ licence: { status: 'suspended' } });
    assert.ok(d.update.available);
    assert.equal(d.update.entitled, false);
    assert.equal(d.update.download, null);
  });

  it('entitled but no installer uploaded: no download', () => {
    const releases = [buildRelease({ version: '8.6.0', releasedAt: at('2026-11-01T00:00:00.000Z'), file: null })];
    const u = decide({ snapshot: { releases } }).update;
    assert.ok(u.available && u.entitled && u.download === null);
  });

  it('rows whose version does not parse are ignored', () => {
    const releases = [...RELEASES, buildRelease({ version: '99.0', releasedAt: at('2026-01-01T00:00:00.000Z') })];
    const u = decide({ snapshot: { releases } }).update;
    assert.ok(u.available && u.version === '8.6.0');
  });
});

describe('content offers', () => {
  it('active add-on with a newer pack: available with the newest pack', () => {
    const c = decide().content;
    assert.deepEqual({ ...c.spamfilter }, { available: true, version: '2026.11.25.1', download: PACKS[1].file });
  });

  it('installed is the newest (missing parts count as 0): { available: false }', () => {
    assert.deepEqual({ ...decide({ request: { content: new Map([['spamfilter', '2026.11.25.1']]) } }).content.spamfilter }, { available: false });
    assert.deepEqual({ ...decide({ request: { content: new Map([['spamfilter', '2026.11.25.1.0']]) } }).content.spamfilter }, { available: false });
    assert.deepEqual({ ...decide({ request: { content: new Map([['spamfilter', '2026.11.26']]) } }).content.spamfilter }, { available: false });
  });

  it('newest is chosen numerically, not as text', () => {
    const packs = [buildPack('spamfilter', '2026.11.9'), buildPack('spamfilter', '2026.11.10')];
    const c = decide({ snapshot: { content: packs }, request: { content: new Map() } }).content.spamfilter;
    assert.ok(c.available && c.version === '2026.11.10');
  });

  it('an add-on the program did not report is offered its newest pack', () => {
    const c = decide({ request: { content: new Map() } }).content.spamfilter;
    assert.ok(c.available && c.version === '2026.11.25.1');
  });

  it('only held add-ons get an entry', () => {
    const c = decide({ request: { content: new Map([['antivirus', '1'], ['spamfilter', '1']]) } }).content;
    assert.deepEqual(Object.keys(c), ['spamfilter']);
  });

  it('a held add-on without any pack: { available: false }', () => {
    const c = decide({ licence: { addons: [{ code: 'phishing', until: null }] } }).content;
    assert.deepEqual({ ...c.phishing }, { available: false });
  });

  it('lapsed add-on (until == now) with the newest content installed: NOT_ENTITLED, inactive', () => {
    const d = decide({
      licence: { addons: [{ code: 'spamfilter', until: NOW }] },
      request: { content: new Map([['spamfilter', '2026.11.25.1']]) },
    });
    assert.deepEqual({ ...d.content.spamfilter }, { available: false, reason: 'NOT_ENTITLED' });
    assert.equal(d.licence.addons[0].active, false);
    assert.equal(d.valid, true); // a lapsed add-on does not invalidate the licence
  });

  it('add-on until null: active without end', () => {
    const d = decide({ licence: { addons: [{ code: 'spamfilter', until: null }] } });
    assert.equal(d.licence.addons[0].active, true);
    assert.equal(d.content.spamfilter.available, true);
  });

  it('invalid licence: every add-on inactive, every entry NOT_ENTITLED', () => {
    const d = decide({
      licence: { status: 'revoked', addons: [{ code: 'spamfilter', until: null }, { code: 'antivirus', until: null }] },
    });
    assert.deepEqual(d.licence.addons.map((a) => a.active), [false, false]);
    for (const code of ['spamfilter', 'antivirus']) {
      assert.deepEqual({ ...d.content[code] }, { available: false, reason: 'NOT_ENTITLED' });
    }
  });

  it('an add-on code such as __proto__ is an ordinary key', () => {
    const d = decide({
      licence: { addons: [{ code: '__proto__', until: null }] },
      snapshot: { content: [buildPack('__proto__', '2')] },
      request: { content: new Map([['__proto__', '1']]) },
    });
    assert.deepEqual(Object.keys(d.content), ['__proto__']);
    assert.equal(d.content['__proto__'].available, true);
    assert.equal(JSON.parse(JSON.stringify(d.content)).__proto__.version, '2');
  });
});
