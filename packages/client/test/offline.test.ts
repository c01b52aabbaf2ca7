import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywardClient, KeywardClientError, computerIdFrom } from '../src/index.js';
import { StandInServer } from './stand-in-server.js';

const DAY = 86_400_000;
const standIn = new StandInServer();
let directory = '';
let clock = 0;

before(async () => {
  await standIn.start();
  directory = await mkdtemp(join(tmpdir(), 'keyward-client-'));
});
after(async () => {
  await standIn.close();
  await rm(directory, { recursive: true, force: true });
});
beforeEach(() => {
  standIn.behaviour = {};
  clock = Date.now();
});

function client(cacheFile?: string, licence = '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E'): KeywardClient {
  return new KeywardClient({
    serverUrl: standIn.url,
    licence,
    product: 'mailserver',
    computerId: computerIdFrom('machine-1', 'mailserver-secret'),
    pinnedKeys: standIn.pinnedKeys,
    cacheFile,
    now: () => new Date(clock),
  });
}

const input = { usersInUse: 3, version: '8.6.0' };

test('stand-in: offline, the last valid answer is used until offlineUntil and refused after', async () => {
  const keyward = client();
  const online = await keyward.check(input);
  assert.equal(online.offline, false);

  standIn.behaviour = { hangUp: true };
  clock += 29 * DAY;
  const offline = await keyward.check(input);
  assert.equal(offline.offline, true);
  assert.equal(offline.offline && offline.error.code, 'NETWORK_ERROR');
  assert.deepEqual(offline.answer, online.answer);

  clock += 2 * DAY; // past offlineUntil (30 days)
  await assert.rejects(keyward.check(input), (error) => error instanceof KeywardClientError && error.code === 'NETWORK_ERROR');
});

test('stand-in: a cache file is for its licence key only (however the key is typed)', async () => {
  const cacheFile = join(directory, 'bound.json');
  await client(cacheFile).check(input);
  standIn.behaviour = { hangUp: true };
  await assert.rejects(client(cacheFile, 'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE').check(input), (error) => error instanceof KeywardClientError && error.code === 'NETWORK_ERROR');
  assert.equal((await client(cacheFile, ' 7h2kq 9qwxm-4trzp-8dalc-5nb3e ').check(input)).offline, true, 'the same key typed differently');
});

test('stand-in: the cache file\'s folder is made on the first start', async () => {
  const cacheFile = join(directory, 'not', 'made', 'yet', 'answer.json');
  await client(cacheFile).check(input);
  standIn.behaviour = { hangUp: true };
  assert.equal((await client(cacheFile).check(input)).offline, true, 'a restarted program runs offline from it');
});

test('stand-in: the cache file survives a restart and is re-verified at load', async () => {
  const cacheFile = join(directory, 'restart.json');
  await client(cacheFile).check(input);
  assert.equal((await stat(cacheFile)).mode & 0o777, 0o600);

  standIn.behaviour = { hangUp: true };
  const restarted = client(cacheFile);
  const result = await restarted.check(input);
  assert.equal(result.offline, true);
  assert.equal(result.answer.code, 'VALID');
});

test('stand-in: a tampered cache file is ignored', async () => {
  const cacheFile = join(directory, 'tampered.json');
  await client(cacheFile).check(input);
  const file = JSON.parse(await readFile(cacheFile, 'utf8')) as { body: string };
  // Push offlineUntil out by ten years: the signature no longer matches, so the cache is worthless.
  const body = Buffer.from(file.body, 'base64').toString('utf8').replace(/"offlineUntil":"(\d{4})/, (_, year: string) => `"offlineUntil":"${Number(year) + 10}`);
  await writeFile(cacheFile, JSON.stringify({ ...file, body: Buffer.from(body).toString('base64') }));

  standIn.behaviour = { hangUp: true };
  const restarted = client(cacheFile);
  assert.equal(await restarted.offlineAnswer(), undefined);
  await assert.rejects(restarted.check(input), (error) => error instanceof KeywardClientError && error.code === 'NETWORK_ERROR');

  await writeFile(cacheFile, 'not json');
  assert.equal(await client(cacheFile).offlineAnswer(), undefined);
});

test('stand-in: an answer that no longer validates ends offline use', async () => {
  const cacheFile = join(directory, 'revoked.json');
  const keyward = client(cacheFile);
  await keyward.check(input);
  standIn.behaviour = { answer: () => ({ valid: false, code: 'REVOKED', offlineUntil: undefined }) };
  assert.equal((await keyward.check(input)).answer.code, 'REVOKED');

  standIn.behaviour = { hangUp: true };
  await assert.rejects(keyward.check(input), (error) => error instanceof KeywardClientError);
  await assert.rejects(client(cacheFile).check(input), (error) => error instanceof KeywardClientError);
});

test('stand-in: a clock wound back to before the cached answer does not extend offline use', async () => {
  const keyward = client();
  await keyward.check(input);
  standIn.behaviour = { hangUp: true };
  clock -= 2 * DAY;
  assert.equal(await keyward.offlineAnswer(), undefined);
});
