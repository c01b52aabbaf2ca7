// The call-home decision without waiting (CallhomeService.callhomeNow): taken only for calls that change
// no seat and no status, on SQLite with the settings and catalog cached, and then the same decision as
// the asynchronous path. A call that needs a seat, or a database that cannot answer synchronously,
// gets undefined and nothing recorded, so the asynchronous path does the whole call once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TEST_DIALECT } from '../../kernel/testing/db.js';
import { parseCallhomeRequest } from './validation/parse-request.js';
import type { CallhomeRequest } from './validation/parse-request.js';
import { callBody, computerId, createLicence, harness, seedProduct, type Harness } from './testing.js';

let t: TestApp;
let h: Harness;
let key: string;

before(async () => {
  t = await testApp();
  h = await harness(t);
  await seedProduct(h);
  key = (await createLicence(h, { maxMachines: 2 })).key;
});
after(async () => { await t.close(); });

function request(overrides: Record<string, unknown> = {}): CallhomeRequest {
  const parsed = parseCallhomeRequest(callBody(key, overrides));
  assert.ok(parsed.ok);
  return parsed.request;
}

async function machineRows(): Promise<{ computer_id: string; status: string }[]> {
  return t.k.db.selectFrom('machines').select(['computer_id', 'status']).orderBy('computer_id').execute();
}

describe('call-home decided without waiting', { skip: TEST_DIALECT !== 'sqlite' && 'PostgreSQL has no synchronous reads: callhomeNow is always undefined there (tested below)' }, () => {
  test('a refresh of a seated machine is decided synchronously, as the asynchronous path decides it', async () => {
    const service = t.modules.licensing.callhome;
    const first = await service.callhome(request({ computerId: computerId('sync-a') }), '192.0.2.1');
    assert.equal(first.decision.code, 'VALID');
    const now = service.callhomeNow(request({ computerId: computerId('sync-a'), usersInUse: 11 }), '192.0.2.1');
    assert.ok(now, 'decided without waiting');
    const later = await service.callhome(request({ computerId: computerId('sync-a'), usersInUse: 11 }), '192.0.2.1');
    assert.deepEqual(now.decision, later.decision);
    assert.equal(now.licenceId, later.licenceId);
  });

  test('a new machine (it takes a seat) and a released one are left to the asynchronous path, with nothing recorded', async () => {
    const service = t.modules.licensing.callhome;
    const before = await machineRows();
    assert.equal(service.callhomeNow(request({ computerId: computerId('sync-b') }), '192.0.2.1'), undefined);
    assert.deepEqual(await machineRows(), before, 'no machine row written');
    const seated = await service.callhome(request({ computerId: computerId('sync-b') }), '192.0.2.1');
    assert.equal(seated.decision.code, 'VALID');
    assert.equal((await h.admin('POST', `/api/v1/admin/licences/${key}/machines/${computerId('sync-b')}/release`)).statusCode, 200);
    assert.equal(service.callhomeNow(request({ computerId: computerId('sync-b') }), '192.0.2.1'), undefined, 'a released machine calling again takes a seat anew');
    const again = await service.callhome(request({ computerId: computerId('sync-b') }), '192.0.2.1');
    assert.ok('machines' in again.decision);
    assert.equal(again.decision.machines.active, 2);
  });

  test('an unknown key is answered synchronously once the settings are cached', async () => {
    const service = t.modules.licensing.callhome;
    await service.callhome(request(), '192.0.2.1');
    const parsed = parseCallhomeRequest(callBody('ZZZZZ-ZZZZZ'));
    assert.ok(parsed.ok);
    assert.equal(service.callhomeNow(parsed.request, '192.0.2.1')?.decision.code, 'NOT_FOUND');
  });
});

describe('call-home on PostgreSQL', { skip: TEST_DIALECT !== 'postgres' && 'runs in the PostgreSQL pass' }, () => {
  test('callhomeNow never answers: every call reads', async () => {
    const service = t.modules.licensing.callhome;
    await service.callhome(request({ computerId: computerId('pg-a') }), '192.0.2.1');
    assert.equal(service.callhomeNow(request({ computerId: computerId('pg-a') }), '192.0.2.1'), undefined);
  });
});
