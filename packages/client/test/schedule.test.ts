import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywardClient, computerIdFrom } from '../src/index.js';
import { MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS, jitteredTime, nextCheckTime, retryAfterTime } from '../src/schedule.js';
import { newKeyPair } from './stand-in-server.js';

const now = new Date('2026-11-25T10:00:00.000Z');

test('checks are spread ±10% around nextCheckSeconds', () => {
  const day = 86_400_000;
  const times = Array.from({ length: 2000 }, () => jitteredTime(now, 86_400).getTime() - now.getTime());
  assert.ok(times.every((t) => t >= 0.9 * day && t <= 1.1 * day + 60_000));
  assert.ok(Math.min(...times) < 0.95 * day && Math.max(...times) > 1.05 * day, 'the jitter should use its range');
  assert.ok(new Set(times).size > 1900, 'installations should not share a time');
  // The extremes of the random source stay within bounds too.
  assert.equal(jitteredTime(now, 86_400, () => 0).getTime() - now.getTime(), 0.9 * day + 1000);
  assert.ok(jitteredTime(now, 86_400, () => 0.999_999).getTime() - now.getTime() <= 1.1 * day);
});

test('a check never lands on a whole minute of the wall clock', () => {
  // now is a round time, and a zero offset would land on one again: it is nudged off it.
  const landed = jitteredTime(now, 3600, () => 0.5);
  assert.notEqual(landed.getTime() % 60_000, 0);
  for (let i = 0; i < 1000; i++) assert.notEqual(jitteredTime(now, 600).getTime() % 60_000, 0);
});

test('intervals below a minute are raised to one', () => {
  assert.ok(jitteredTime(now, 0).getTime() - now.getTime() >= 54_000);
});

test('Retry-After reads seconds and HTTP dates, falls back, and is capped', () => {
  assert.equal(retryAfterTime('120', now, 60, 86_400).getTime(), now.getTime() + 120_000);
  assert.equal(retryAfterTime(new Date(now.getTime() + 300_000).toUTCString(), now, 60, 86_400).getTime(), now.getTime() + 300_000);
  assert.equal(retryAfterTime(null, now, 60, 86_400).getTime(), now.getTime() + 60_000);
  assert.equal(retryAfterTime('soon', now, 60, 86_400).getTime(), now.getTime() + 60_000);
  assert.equal(retryAfterTime('99999999', now, 60, 86_400).getTime(), now.getTime() + 86_400_000);
});

test('nextCheckAt without an answer retries within about an hour', () => {
  const key = newKeyPair('k');
  const client = new KeywardClient({
    serverUrl: 'http://127.0.0.1:9',
    licence: 'x',
    computerId: computerIdFrom('m', 'p'),
    pinnedKeys: [key.pinned],
  });
  const delay = client.nextCheckAt(undefined, now).getTime() - now.getTime();
  assert.ok(delay >= 0.9 * 3600_000 && delay <= 1.1 * 3600_000 + 60_000);
});

test('a huge or non-finite interval is bounded, never an Invalid Date', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  for (const seconds of [1e300, Infinity, Number.NaN]) {
    const at = nextCheckTime(now, seconds, undefined, () => 0.5);
    assert.ok(Number.isFinite(at.getTime()), String(seconds));
    assert.ok(at.getTime() - now.getTime() <= MAX_INTERVAL_SECONDS * 1000 * 1.1 + 60_000, String(seconds));
    assert.ok(at.getTime() - now.getTime() >= MIN_INTERVAL_SECONDS * 1000 * 0.9, String(seconds));
  }
});
