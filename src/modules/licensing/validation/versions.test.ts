import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compareContentVersions, isContentVersion, parseContentVersion } from './content-version.js';
import { compareSemver, parseSemver } from './semver.js';

function cmp(a: string, b: string): number {
  return Math.sign(compareSemver(parseSemver(a)!, parseSemver(b)!));
}

describe('SemVer precedence', () => {
  it('follows the example chain of SemVer 2.0 §11', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '2.1.0', '2.1.1'];
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) assert.equal(cmp(chain[i], chain[j]), Math.sign(i - j), `${chain[i]} vs ${chain[j]}`);
    }
  });

  it('compares numbers numerically, however long', () => {
    assert.equal(cmp('10.0.0', '9.0.0'), 1);
    assert.equal(cmp('1.10.0', '1.9.0'), 1);
    assert.equal(cmp('99999999999999999999.0.0', '99999999999999999998.0.0'), 1);
    assert.equal(cmp('1.0.0-10', '1.0.0-9'), 1);
    assert.equal(cmp('1.0.0-9', '1.0.0-a'), -1); // numeric identifiers sort before alphanumeric
    assert.equal(cmp('1.0.0-0a', '1.0.0-a'), -1); // 0a is alphanumeric: ASCII order
    assert.equal(cmp('1.0.0-B', '1.0.0-a'), -1); // ASCII: upper case first
  });

  it('parses the parts', () => {
    assert.deepEqual(parseSemver('1.2.3-rc.1'), { raw: '1.2.3-rc.1', major: '1', minor: '2', patch: '3', prerelease: ['rc', '1'] });
    assert.equal(parseSemver('1.2.3+b'), null);
  });
});

describe('content versions', () => {
  it('missing parts count as 0; leading zeros are ignored', () => {
    assert.equal(compareContentVersions('1.2', '1.2.0'), 0);
    assert.equal(compareContentVersions('1.2', '1.2.0.0.0'), 0);
    assert.equal(compareContentVersions('2026.01.05', '2026.1.5'), 0);
    assert.equal(compareContentVersions('00', '0'), 0);
  });

  it('compares numerically, without precision loss', () => {
    assert.ok(compareContentVersions('1.10', '1.9') > 0);
    assert.ok(compareContentVersions('1.2.0.1', '1.2') > 0);
    assert.ok(compareContentVersions('9007199254740993', '9007199254740992') > 0); // equal as Numbers
    assert.ok(compareContentVersions('0001', '2') < 0);
  });

  it('accepts only dot-separated ASCII decimal numbers', () => {
    for (const ok of ['0', '1', '2026.11.25.1', '007']) assert.ok(isContentVersion(ok), ok);
    for (const bad of ['', '.', '1.', '.1', '1..1', '1.a', '+1', '1 ', '١']) assert.equal(parseContentVersion(bad), null, bad);
    assert.throws(() => compareContentVersions('1', 'x'), TypeError);
  });
});
