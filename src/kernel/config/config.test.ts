import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';

test('defaults: SQLite under ./data, port 3000 on 127.0.0.1, plain-HTTP cookies', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.host, '127.0.0.1');
  assert.deepEqual(c.database, { kind: 'sqlite', file: path.resolve('data/keyward.sqlite') });
  assert.equal(c.publicUrl, 'http://127.0.0.1:3000');
  assert.equal(c.secureCookies, false);
});

test('postgres:// selects PostgreSQL; https public URL turns on secure cookies', () => {
  const c = loadConfig({ DATABASE_URL: 'postgres://u@db/x', KEYWARD_PUBLIC_URL: 'https://lic.example.com/' });
  assert.equal(c.database.kind, 'postgres');
  assert.equal(c.publicUrl, 'https://lic.example.com');
  assert.equal(c.secureCookies, true);
});

test('every bad value is reported at once, each with how to fix it', () => {
  try {
    loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', KEYWARD_PUBLIC_URL: 'ftp://x', KEYWARD_SECRET_KEY: 'abc', KEYWARD_ROLE: 'boss', REDIS_URL: 'localhost' });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 6);
    assert.match(err.message, /PORT="eighty".*e\.g\. PORT=3000/);
    assert.match(err.message, /openssl rand -hex 32/);
    assert.match(err.message, /DATABASE_URL must start with postgres:\/\//);
  }
});

test('KEYWARD_LMTP_LISTEN: a port or host:port for the LMTP intake, off when unset', () => {
  assert.equal(loadConfig({}).lmtpListen, undefined);
  assert.deepEqual(loadConfig({ KEYWARD_LMTP_LISTEN: '2424' }).lmtpListen, { host: '127.0.0.1', port: 2424 });
  assert.deepEqual(loadConfig({ KEYWARD_LMTP_LISTEN: '0.0.0.0:24' }).lmtpListen, { host: '0.0.0.0', port: 24 });
  assert.throws(() => loadConfig({ KEYWARD_LMTP_LISTEN: 'lmtp' }), /KEYWARD_LMTP_LISTEN must be a port/);
});

test('LOG_LEVEL and KEYWARD_TRUSTED_PROXIES are checked with the rest, before anything starts', () => {
  assert.equal(loadConfig({ LOG_LEVEL: 'debug' }).logLevel, 'debug');
  assert.throws(() => loadConfig({ LOG_LEVEL: 'bogus' }), /LOG_LEVEL="bogus" must be one of fatal, error, warn, info, debug, trace, silent/);
  assert.deepEqual(loadConfig({ KEYWARD_TRUSTED_PROXIES: 'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.7' }).trustedProxies, ['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.7']);
  for (const bad of ['bogus', '10.0.0.0/99', '10.0.0.0/8/1', '::1/200', '10.0.0.0/']) {
    assert.throws(() => loadConfig({ KEYWARD_TRUSTED_PROXIES: bad }), new RegExp(`KEYWARD_TRUSTED_PROXIES has "${bad.replace(/[./:]/g, '\\$&')}"`), bad);
  }
});

test('KEYWARD_AUTO_MIGRATE is 0 or 1, and KEYWARD_MAIL_FROM an address (a typo was taken silently)', () => {
  assert.equal(loadConfig({ KEYWARD_AUTO_MIGRATE: '1' }).autoMigrate, true);
  assert.throws(() => loadConfig({ KEYWARD_AUTO_MIGRATE: 'yes' }), /KEYWARD_AUTO_MIGRATE="yes" must be 1/);
  assert.equal(loadConfig({ KEYWARD_MAIL_FROM: 'Vendor Ltd <noreply@vendor.example>' }).mailFrom, 'Vendor Ltd <noreply@vendor.example>');
  assert.equal(loadConfig({ KEYWARD_MAIL_FROM: 'noreply@vendor.example' }).mailFrom, 'noreply@vendor.example');
  assert.throws(() => loadConfig({ KEYWARD_MAIL_FROM: 'garbage' }), /KEYWARD_MAIL_FROM="garbage" must be an address/);
});
