// Pure parts of the call-home surface: IP networks, the rate limiter, download URL signing.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secrets } from '../../../kernel/crypto/secrets.js';
import fc from 'fast-check';
import { ipNetwork } from './networks.js';
import { CallhomeRateLimiter } from './rate-limit.js';
import { DownloadUrls } from './download-urls.js';

describe('ipNetwork', () => {
  const cases: Array<[string, string | null]> = [
    ['203.0.113.7', '203.0.113.0/24'],
    ['::ffff:198.51.100.23', '198.51.100.0/24'],
    ['2001:db8:1:2::5', '2001:db8:1::/48'],
    ['2001:0db8:0000:0002:0000:0000:0000:0001', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
    ['fe80::1%eth0', 'fe80:0:0::/48'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0::/48'],
    ['not an ip', null],
    ['', null],
    ['1.2.3.4.5', null],
    ['256.1.2.3', null],
    ['10.0.0.1 ', null],
    [':10.0.0.1', null],
  ];
  for (const [ip, net] of cases) test(`${ip || '(empty)'} → ${net}`, () => assert.equal(ipNetwork(ip), net));
  test('any IPv4 address, plain or IPv4-mapped, is cut to its /24', () => {
    fc.assert(fc.property(fc.ipV4(), fc.boolean(), (ip, mapped) => {
      const [a, b, c] = ip.split('.');
      assert.equal(ipNetwork(mapped ? `::ffff:${ip}` : ip), `${a}.${b}.${c}.0/24`);
    }));
  });
});

describe('CallhomeRateLimiter', () => {
  test('never refuses below the limit in any 60 s; refused calls are not counted', () => {
    let now = Date.UTC(2026, 10, 25, 10, 0, 59);
    const rl = new CallhomeRateLimiter(() => now);
    const limits = { perLicence: 3, perIp: 5, windowSeconds: 60 };
    for (let i = 0; i < 3; i++) assert.deepEqual(rl.take(limits, 'ip', 'L'), { ok: true });
    assert.deepEqual(rl.take(limits, 'ip', 'L'), { ok: false, retryAfterSeconds: 1 });
    assert.deepEqual(rl.take(limits, 'ip', 'M'), { ok: true }, 'the IP has 4 accepted calls, not 5');
    assert.deepEqual(rl.take(limits, 'ip', null), { ok: true });
    assert.equal(rl.take(limits, 'ip', 'N').ok, false, 'the IP is at 5');
    now += 1000;
    assert.deepEqual(rl.take(limits, 'ip', 'L'), { ok: true }, 'a new window');
  });
});

describe('DownloadUrls', () => {
  const urls = new DownloadUrls(new Secrets(Buffer.alloc(32, 7)), { publicUrl: 'https://l.example.com' });
  const file = { ref: 'r/abc/setup.exe', sha256: 'a'.repeat(64), size: 5 };
  test('round trip, expiry and tampering', () => {
    const now = Date.UTC(2026, 10, 25, 10);
    const signed = urls.sign(file, 'lic-1', now);
    assert.equal(signed.expiresAt, '2026-11-25T11:00:00.000Z');
    const u = new URL(signed.url);
    const q = Object.fromEntries(u.searchParams);
    assert.deepEqual(urls.verify(u.pathname, q, now), { kind: 'r', id: 'abc', licenceId: 'lic-1' });
    assert.equal(urls.verify(u.pathname, q, now + 3_600_000), null);
    assert.equal(urls.verify(u.pathname, { ...q, l: 'lic-2' }, now), null);
    assert.equal(urls.verify(u.pathname, { ...q, e: String(Number(q.e) + 1) }, now), null);
    assert.equal(urls.verify(u.pathname.replace('setup', 'other'), q, now), null);
    assert.equal(urls.verify(u.pathname, { ...q, e: ['1', '2'] }, now), null);
    assert.equal(urls.verify(u.pathname, {}, now), null);
  });
});
