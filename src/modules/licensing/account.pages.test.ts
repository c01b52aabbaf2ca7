// My account → Licences over real HTTP: what a customer sees, key reveal (audited), self-service
// machine release with its monthly limit, the offline licence file, and that nothing of another
// customer's licence can be seen or changed by editing an id in a URL or a form.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { verifyEd25519 } from '../../kernel/crypto/signing.js';
import type { TestBrowser } from '../../kernel/testing/http.js';
import { buildCustomer, signIn } from '../support/testing.js';
import { callBody, computerId, harness, seedProduct, type Harness } from './testing.js';
import { SELF_SERVICE_SETTINGS_KEY, saveSelfServiceSettings, selfServiceSettings } from './index.js';

let t: TestApp;
let h: Harness;
let ada: TestBrowser;
let bob: TestBrowser;
let adaId: string;
let bobId: string;
const START = Date.parse('2026-11-25T10:00:00.000Z');

async function licenceFor(customerId: string, overrides: Record<string, unknown> = {}) {
  const view = await t.modules.licensing.licences.createLicence({
    product: 'mailserver', maxUsers: 25, maxMachines: 10, expiresAt: null, maintenanceUntil: Date.parse('2027-06-30T00:00:00Z'),
    addons: [{ code: 'mailserver-spam', until: Date.parse('2027-01-31T00:00:00Z') }], policy: {}, customerEmail: null, customerId, ...overrides,
  }, { kind: 'system', id: null });
  return view;
}

const machines = (licenceId: string) => t.k.db.selectFrom('machines').select(['computer_id', 'status']).where('licence_id', '=', licenceId).orderBy('computer_id').execute();
const audits = (action: string) => t.k.db.selectFrom('audit_log').selectAll().where('action', '=', action).execute();

before(async () => {
  t = await testApp();
  t.clock.set(START);
  h = await harness(t);
  await seedProduct(h);
  adaId = await buildCustomer(t, 'ada@example.com', 'Ada Lovelace');
  bobId = await buildCustomer(t, 'bob@example.com', 'Bob Builder');
  ada = await signIn(t, 'customer', 'ada@example.com');
  bob = await signIn(t, 'customer', 'bob@example.com');
});
after(async () => { await t.close(); });

describe('My account → Licences', () => {
  test('lists the customer\'s licences with terms, add-ons and the machines that call home; the key stays hidden', async () => {
    const lic = await licenceFor(adaId);
    for (const [n, version, users] of [[1, '8.5.0', 12], [2, '8.6.0', 7]] as const) {
      const r = await h.call(callBody(lic.key, { computerId: computerId(`ada-${n}`), version, usersInUse: users }));
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    await t.modules.licensing.flush();
    const res = await ada.get('/account/licences');
    assert.equal(res.statusCode, 200);
    const body = res.body;
    assert.match(body, /Up to 25/);
    assert.match(body, /Until 30 Jun 2027/);
    assert.match(body, /Spam filter/);
    assert.match(body, /until 31 Jan 2027/);
    assert.match(body, /8\.5\.0/);
    assert.match(body, /8\.6\.0/);
    assert.match(body, /<td class="num" data-label="Users in use">12 of 25<\/td>/);
    assert.match(body, new RegExp(computerId('ada-1').slice(0, 12)));
    assert.match(body, new RegExp(`…-${lic.key.slice(-5)}`), 'the key is labelled by its last group');
    assert.ok(!body.includes(lic.key), 'the full key is not on the page until asked for');
    assert.match(body, /aria-current="page"[^>]*>Licences|href="\/account\/licences" aria-current="page"/);
  });

  test('"Show key" is a POST that reveals the key and is audited; without the CSRF token nothing is revealed', async () => {
    const lic = (await t.modules.licensing.customerLicences.list(adaId))[0]!;
    const fullKey = (await t.modules.licensing.licences.view(lic.id)).key;
    await ada.get('/account/licences');
    const forged = await ada.post(`/account/licences/${lic.id}/key`, { _csrf: 'nope' });
    assert.equal(forged.statusCode, 403);
    assert.ok(!forged.body.includes(fullKey));
    const before = (await audits('licensing.licence.key_revealed')).length;
    await ada.get('/account/licences');
    const res = await ada.post(`/account/licences/${lic.id}/key`, {});
    assert.equal(res.statusCode, 200);
    assert.match(res.body, new RegExp(`<code class="licence-key">${fullKey}</code>`));
    const after = await audits('licensing.licence.key_revealed');
    assert.equal(after.length, before + 1);
    assert.equal(after.at(-1)!.actor_id, adaId);
    assert.equal(after.at(-1)!.target, lic.id);
    assert.ok(!after.at(-1)!.detail.includes(fullKey.slice(-5)), 'the audit entry does not hold the key');
  });

  test('releasing a machine frees its seat, is audited, and is refused with a clear message after 3 in a month', async () => {
    const lic = await licenceFor(adaId, { maxMachines: 10 });
    for (let n = 1; n <= 5; n++) assert.equal((await h.call(callBody(lic.key, { computerId: computerId(`rel-${n}`) }))).status, 200);
    await ada.get('/account/licences');
    for (let n = 1; n <= 3; n++) {
      const res = await ada.post(`/account/licences/${lic.id}/release`, { computer_id: computerId(`rel-${n}`) });
      assert.equal(res.statusCode, 200, res.body.slice(0, 300));
      assert.match(res.body, /has been released/);
      assert.match(res.body, new RegExp(`release ${n === 3 ? 'no more' : 3 - n} more`));
    }
    const released = (await machines(lic.id)).filter((m) => m.status === 'released').length;
    assert.equal(released, 3);
    const auditsBefore = (await audits('licensing.machine.released')).filter((a) => a.target === lic.id);
    assert.equal(auditsBefore.length, 3);
    assert.ok(auditsBefore.every((a) => a.actor_kind === 'customer' && a.actor_id === adaId && !a.detail.includes(computerId('rel-1'))), 'who, not which computer');

    const fourth = await ada.post(`/account/licences/${lic.id}/release`, { computer_id: computerId('rel-4') });
    assert.equal(fourth.statusCode, 429);
    assert.match(fourth.body, /already released 3 machines from this licence this month, the most allowed \(3\)\. You can release another from 2026-12-01/);
    assert.equal((await machines(lic.id)).find((m) => m.computer_id === computerId('rel-4'))!.status, 'active', 'nothing changed');
    assert.equal((await audits('licensing.machine.release_refused')).filter((a) => a.target === lic.id).length, 1, 'the refusal is audited');

    // A released machine that calls again takes its seat again (a new caller).
    assert.equal((await h.call(callBody(lic.key, { computerId: computerId('rel-1') }))).json.code, 'VALID');

    // Next month the allowance is back.
    t.clock.set(Date.parse('2026-12-01T00:00:00Z'));
    try {
      // Six days on, the idle session has ended: sign in again.
      const later = await signIn(t, 'customer', 'ada@example.com');
      await later.get('/account/licences');
      const res = await later.post(`/account/licences/${lic.id}/release`, { computer_id: computerId('rel-4') });
      assert.equal(res.statusCode, 200);
      assert.equal((await machines(lic.id)).find((m) => m.computer_id === computerId('rel-4'))!.status, 'released');
    } finally {
      t.clock.set(START);
      ada = await signIn(t, 'customer', 'ada@example.com');
    }
  });

  test('the monthly limit is a setting; 0 turns self-service release off', async () => {
    const lic = await licenceFor(adaId);
    assert.equal((await h.call(callBody(lic.key, { computerId: computerId('off-1') }))).status, 200);
    await t.k.settings.set(SELF_SERVICE_SETTINGS_KEY, { releasesPerMonth: 0 });
    try {
      await ada.get('/account/licences');
      const res = await ada.post(`/account/licences/${lic.id}/release`, { computer_id: computerId('off-1') });
      assert.equal(res.statusCode, 429);
      assert.match(res.body, /contact support/);
      assert.equal((await machines(lic.id))[0]!.status, 'active');
      await t.k.settings.set(SELF_SERVICE_SETTINGS_KEY, { releasesPerMonth: 'lots' });
      await ada.get('/account/licences');
      assert.equal((await ada.post(`/account/licences/${lic.id}/release`, { computer_id: computerId('off-1') })).statusCode, 200, 'a bad stored value falls back to the default');
    } finally {
      await t.k.settings.delete(SELF_SERVICE_SETTINGS_KEY);
    }
  });

  test('two releases at once with one left: exactly one succeeds (the licence row is locked while counting)', async () => {
    const lic = await licenceFor(adaId);
    for (const n of [1, 2, 3]) assert.equal((await h.call(callBody(lic.key, { computerId: computerId(`race-${n}`) }))).status, 200);
    await t.k.settings.set(SELF_SERVICE_SETTINGS_KEY, { releasesPerMonth: 1 });
    try {
      const actor = { customerId: adaId, ip: null };
      const results = await Promise.allSettled([1, 2, 3].map((n) => t.modules.licensing.customerLicences.releaseMachine(lic.id, computerId(`race-${n}`), actor)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status === 'rejected' ? (r.reason as Error).message : 'ok')));
      assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.code === 'LIC_RELEASE_LIMIT'));
      assert.equal((await machines(lic.id)).filter((m) => m.status === 'released').length, 1);
      assert.equal((await t.k.db.selectFrom('licence_self_releases').selectAll().where('licence_id', '=', lic.id).execute()).length, 1);
    } finally {
      await t.k.settings.delete(SELF_SERVICE_SETTINGS_KEY);
    }
  });

  test('bad release input: malformed or unknown computer ID, already released: clear messages, nothing changed', async () => {
    const lic = await licenceFor(adaId);
    assert.equal((await h.call(callBody(lic.key, { computerId: computerId('bad-1') }))).status, 200);
    await ada.get('/account/licences');
    const malformed = await ada.post(`/account/licences/${lic.id}/release`, { computer_id: 'not-hex' });
    assert.equal(malformed.statusCode, 400);
    assert.match(malformed.body, /A computer ID is 64 characters/);
    const unknown = await ada.post(`/account/licences/${lic.id}/release`, { computer_id: computerId('never-called') });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.body, /not using this licence/);
    const tooLong = await ada.post(`/account/licences/${lic.id}/release`, { computer_id: 'a'.repeat(500) });
    assert.equal(tooLong.statusCode, 400);
    assert.equal((await machines(lic.id))[0]!.status, 'active');
    assert.equal((await ada.post(`/account/licences/${lic.id}/release`, { computer_id: computerId('bad-1').toUpperCase() })).statusCode, 200, 'any case');
    await ada.get('/account/licences');
    assert.equal((await ada.post(`/account/licences/${lic.id}/release`, { computer_id: computerId('bad-1') })).statusCode, 404, 'already released');
  });

  test('the offline licence file for a typed computer ID is the signed file of /api/v1/licence-file, and takes a seat', async () => {
    const lic = await licenceFor(adaId, { maxMachines: 1 });
    await ada.get('/account/licences');
    const typed = computerId('offline-pc').toUpperCase().replace(/(.{16})/g, '$1 ').trim();
    const res = await ada.post(`/account/licences/${lic.id}/licence-file`, { computer_id: typed });
    assert.equal(res.statusCode, 200, res.body.slice(0, 400));
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="licence-[A-Z0-9]{5}-[0-9a-f]{8}\.lic"$/);
    const m = /^-----BEGIN KEYWARD LICENCE FILE-----\n([A-Za-z0-9+/=]+)\n-----END KEYWARD LICENCE FILE-----\n$/.exec(res.body);
    assert.ok(m);
    const envelope = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8'));
    const key = (await h.keys()).find((k) => k.kid === envelope.kid)!;
    const payload = Buffer.from(envelope.payload, 'base64');
    assert.ok(verifyEd25519(key.publicKey, payload, envelope.signature));
    const json = JSON.parse(payload.toString('utf8'));
    assert.equal(json.computerId, computerId('offline-pc'));
    assert.equal(json.licence.maxUsers, 25);
    assert.equal((await machines(lic.id))[0]!.status, 'active', 'the file takes a seat');
    assert.ok((await audits('licensing.licence_file.issued')).some((a) => a.target === lic.id && a.actor_id === adaId));

    const bad = await ada.post(`/account/licences/${lic.id}/licence-file`, { computer_id: 'xyz' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /class="field has-error"/);
    assert.match(bad.body, new RegExp(`<div class="error-summary" role="alert">.*href="#f-file-${lic.id}"`, 's'), 'the summary at the top links to the field');
    assert.match(bad.body, /<details class="licence-file" open/);
  });

  test('a refused licence file says why (revoked licence)', async () => {
    const lic = await licenceFor(adaId);
    await t.k.db.updateTable('licences').set({ status: 'revoked' }).where('id', '=', lic.id).execute();
    await ada.get('/account/licences');
    const res = await ada.post(`/account/licences/${lic.id}/licence-file`, { computer_id: computerId('revoked-pc') });
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /not active, so no licence file can be issued/);
    assert.equal((await machines(lic.id)).length, 0);
  });

  test('signing in is needed', async () => {
    const { TestBrowser } = await import('../../kernel/testing/http.js');
    const anon = new TestBrowser(t.app);
    const res = await anon.get('/account/licences');
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /^\/account\/login\?next=/);
  });
});

test('saving the setting validates it with a message naming the field', async () => {
  for (const bad of [-1, 101, 2.5, 'three', null, undefined, '1e2']) {
    await assert.rejects(saveSelfServiceSettings(t.k.settings, { releasesPerMonth: bad }, null), (e: { code?: string; field?: string; message: string }) =>
      e.code === 'BAD_REQUEST' && e.field === 'releasesPerMonth' && /whole number from 0 to 100/.test(e.message));
  }
  assert.deepEqual(await saveSelfServiceSettings(t.k.settings, { releasesPerMonth: ' 5 ' }, null), { releasesPerMonth: 5 });
  assert.deepEqual(await selfServiceSettings(t.k.settings), { releasesPerMonth: 5 });
  await t.k.settings.delete(SELF_SERVICE_SETTINGS_KEY);
  assert.deepEqual(await selfServiceSettings(t.k.settings), { releasesPerMonth: 3 });
});

describe('access control: another customer\'s licence by changing an id', () => {
  test('Bob cannot see, reveal, release from or get a licence file for Ada\'s licence: 404, nothing leaked, nothing changed', async () => {
    const lic = await licenceFor(adaId);
    assert.equal((await h.call(callBody(lic.key, { computerId: computerId('ada-private') }))).status, 200);
    const bobsOwn = await licenceFor(bobId);

    const list = await bob.get('/account/licences');
    assert.ok(!list.body.includes(lic.id), 'Ada\'s licence is not in Bob\'s list');
    assert.ok(!list.body.includes(computerId('ada-private').slice(0, 12)));
    assert.match(list.body, new RegExp(bobsOwn.id));

    const auditCount = async () => Number((await t.k.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('target', '=', lic.id).executeTakeFirstOrThrow()).n);
    const auditsBefore = await auditCount();
    for (const [url, form] of [
      [`/account/licences/${lic.id}/key`, {}],
      [`/account/licences/${lic.id}/release`, { computer_id: computerId('ada-private') }],
      [`/account/licences/${lic.id}/licence-file`, { computer_id: computerId('bob-pc') }],
    ] as const) {
      await bob.get('/account/licences');
      const res = await bob.post(url, form);
      assert.equal(res.statusCode, 404, url);
      assert.match(res.body, /Licence not found/);
      assert.ok(!res.body.includes(lic.key), `${url}: key not leaked`);
      assert.ok(!res.body.includes('BEGIN KEYWARD LICENCE FILE'));
      assert.ok(!res.body.includes(computerId('ada-private').slice(0, 12)));
    }
    // Bob's own licence id in the URL with Ada's machine in the form: still nothing.
    await bob.get('/account/licences');
    assert.equal((await bob.post(`/account/licences/${bobsOwn.id}/release`, { computer_id: computerId('ada-private') })).statusCode, 404);
    assert.deepEqual(await machines(lic.id), [{ computer_id: computerId('ada-private'), status: 'active' }]);
    assert.equal((await machines(bobsOwn.id)).length, 0, 'no licence file seat was taken on Bob\'s licence either');
    assert.equal(await auditCount(), auditsBefore, 'nothing was recorded against Ada\'s licence');
    assert.equal((await t.k.db.selectFrom('licence_self_releases').selectAll().where('licence_id', '=', lic.id).execute()).length, 0);

    // An id that does not exist at all answers the same.
    await bob.get('/account/licences');
    const ghost = await bob.post('/account/licences/no-such-licence/key', {});
    assert.equal(ghost.statusCode, 404);
  });
});
