// Hostile input for the call-home and licence-file parsers: every field rule of the request table.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseCallhomeRequest, parseLicenceFileRequest } from './parse-request.js';

const ID = 'a'.repeat(64);
const NONCE = 'n0nce_-n0nce_-16';
const valid = { licence: '7H2KQ-9QWXM-4TRZP-8DA1C-5NB3E', version: '8.5.0', computerId: ID, usersInUse: 10, nonce: NONCE };

/** The field named in the error, or 'ok'. */
function fieldOf(body: unknown): string {
  const r = parseCallhomeRequest(body);
  return r.ok ? 'ok' : r.field;
}

function withField(field: string, value: unknown): Record<string, unknown> {
  return { ...valid, [field]: value };
}

function without(field: string): Record<string, unknown> {
  const b: Record<string, unknown> = { ...valid };
  delete b[field];
  return b;
}

describe('parseCallhomeRequest', () => {
  it('a minimal valid body; defaults applied', () => {
    const r = parseCallhomeRequest(valid);
    assert.ok(r.ok);
    assert.deepEqual(r.request, { ...valid, channel: 'stable', content: new Map() });
    assert.equal('product' in r.request, false);
  });

  it('a full body, unknown fields dropped', () => {
    const r = parseCallhomeRequest({ ...valid, product: 'mailserver', channel: 'beta', content: { spamfilter: '2026.11.25.1' }, hostname: 'PC-OF-ALICE', email: 'a@b.c' });
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.request).sort(), ['channel', 'computerId', 'content', 'licence', 'nonce', 'product', 'usersInUse', 'version']);
    assert.deepEqual([...r.request.content], [['spamfilter', '2026.11.25.1']]);
  });

  for (const body of [null, [], [valid], 'x', 42, true, undefined]) {
    it(`body ${JSON.stringify(body)} is refused`, () => assert.equal(fieldOf(body), 'body'));
  }

  it('the first failing field in table order is reported', () => {
    assert.equal(fieldOf({}), 'licence');
    assert.equal(fieldOf({ licence: '' }), 'version');
    assert.equal(fieldOf({ ...valid, version: 1, nonce: 1 }), 'version');
  });

  describe('licence', () => {
    it('any string up to 128 code points parses (the empty one included)', () => {
      for (const s of ['', ' ', 'not a key', 'x'.repeat(128), '😀'.repeat(128), 'é'.repeat(128)]) assert.equal(fieldOf(withField('licence', s)), 'ok', s);
    });
    it('129 code points is a bad request, counted in code points not UTF-16 units', () => {
      assert.equal(fieldOf(withField('licence', 'x'.repeat(129))), 'licence');
      assert.equal(fieldOf(withField('licence', '😀'.repeat(129))), 'licence');
      assert.equal(fieldOf(withField('licence', '😀'.repeat(64) + 'x'.repeat(64))), 'ok'); // 192 units, 128 code points
      assert.equal(fieldOf(withField('licence', 'x'.repeat(100_000))), 'licence');
    });
    for (const v of [null, 12345, true, ['A'], { key: 'A' }]) {
      it(`licence ${JSON.stringify(v)} is refused`, () => assert.equal(fieldOf(withField('licence', v)), 'licence'));
    }
    it('missing licence', () => assert.equal(fieldOf(without('licence')), 'licence'));
  });

  describe('product', () => {
    it('optional; any string, even empty, is kept', () => {
      const r = parseCallhomeRequest(withField('product', ''));
      assert.ok(r.ok && r.request.product === '');
    });
    for (const v of [null, 1, false, {}]) it(`product ${JSON.stringify(v)} is refused`, () => assert.equal(fieldOf(withField('product', v)), 'product'));
  });

  describe('version', () => {
    for (const v of ['0.0.0', '8.5.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0-x-y-z.--', '10.20.30', '1.0.0-0a', '999999999999999999999.0.0']) {
      it(`${v} parses`, () => assert.equal(fieldOf(withField('version', v)), 'ok'));
    }
    for (const v of ['', '1', '1.2', '1.2.3.4', '01.2.3', '1.02.3', '1.2.03', '1.2.3-01', '1.2.3-alpha.01', '1.2.3+build', '1.2.3-rc.1+build', 'v1.2.3', ' 1.2.3', '1.2.3 ', '1.2.3\n', '1.2.3-', '1.2.3-a..b', '1.2.3-é', '١.٢.٣', '-1.2.3', null, 123, ['1.2.3']]) {
      it(`${JSON.stringify(v)} is refused`, () => assert.equal(fieldOf(withField('version', v)), 'version'));
    }
    it('missing version', () => assert.equal(fieldOf(without('version')), 'version'));
  });

  describe('channel', () => {
    it('stable by default, beta accepted', () => {
      const r = parseCallhomeRequest(withField('channel', 'beta'));
      assert.ok(r.ok && r.request.channel === 'beta');
    });
    for (const v of ['Beta', 'STABLE', 'alpha', '', null, 1]) it(`${JSON.stringify(v)} is refused`, () => assert.equal(fieldOf(withField('channel', v)), 'channel'));
  });

  describe('computerId', () => {
    it('64 lowercase hex', () => assert.equal(fieldOf(withField('computerId', '0123456789abcdef'.repeat(4))), 'ok'));
    for (const v of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), 'a'.repeat(63) + '\n', ' ' + 'a'.repeat(63), '', null, 1]) {
      it(`${JSON.stringify(v).slice(0, 20)}… is refused`, () => assert.equal(fieldOf(withField('computerId', v)), 'computerId'));
    }
  });

  describe('usersInUse', () => {
    for (const v of [0, 1, 50, 1_000_000, 1e3, -0]) it(`${v} parses`, () => assert.equal(fieldOf(withField('usersInUse', v)), 'ok'));
    it('-0 becomes 0', () => {
      const r = parseCallhomeRequest(withField('usersInUse', -0));
      assert.ok(r.ok && Object.is(r.request.usersInUse, 0));
    });
    const hostile: unknown[] = [-1, 1.5, 1_000_001, Number.MAX_SAFE_INTEGER, 1e21, Infinity, -Infinity, NaN, '5', '', true, null, [5], { n: 5 }];
    for (const v of hostile) it(`${String(v)} (${typeof v}) is refused`, () => assert.equal(fieldOf(withField('usersInUse', v)), 'usersInUse'));
    it('1e400 in JSON (Infinity) is refused', () => {
      assert.equal(fieldOf(JSON.parse(`{"licence":"","version":"1.0.0","computerId":"${ID}","nonce":"${NONCE}","usersInUse":1e400}`)), 'usersInUse');
    });
    it('missing usersInUse', () => assert.equal(fieldOf(without('usersInUse')), 'usersInUse'));
  });

  describe('content', () => {
    it('leading zeros and missing parts are fine; unicode codes are plain keys', () => {
      const r = parseCallhomeRequest(withField('content', { spamfilter: '2026.01.05', 'ümlaut-😀': '0', x: '123456789012345678901234567890' }));
      assert.ok(r.ok && r.request.content.size === 3);
    });
    it('a __proto__ key from JSON is an ordinary key, not a prototype', () => {
      const r = parseCallhomeRequest(JSON.parse(`{"licence":"","version":"1.0.0","computerId":"${ID}","nonce":"${NONCE}","usersInUse":1,"content":{"__proto__":"1.2"}}`));
      assert.ok(r.ok);
      assert.equal(r.request.content.get('__proto__'), '1.2');
    });
    for (const v of ['', '1.', '.1', '1..2', '1.2a', 'v1', '1,2', ' 1', '-1', '١', '1e3', 1, null, true, ['1'], {}]) {
      it(`version ${JSON.stringify(v)} is refused as content.<code>`, () => assert.equal(fieldOf(withField('content', { spamfilter: v })), 'content.spamfilter'));
    }
    for (const v of [null, [], ['1.0'], 'x', 1]) it(`content ${JSON.stringify(v)} is refused`, () => assert.equal(fieldOf(withField('content', v)), 'content'));
  });

  describe('nonce', () => {
    for (const v of ['a'.repeat(16), 'Z'.repeat(128), 'abcdefghijklmnop_-0123456789ABCD']) it(`length ${v.length} parses`, () => assert.equal(fieldOf(withField('nonce', v)), 'ok'));
    for (const v of ['a'.repeat(15), 'a'.repeat(129), 'a'.repeat(15) + '=', 'a'.repeat(15) + ' ', 'a'.repeat(15) + 'é', 'a'.repeat(16) + '\n', '', null, 1234567890123456]) {
      it(`${JSON.stringify(v)} is refused`, () => assert.equal(fieldOf(withField('nonce', v)), 'nonce'));
    }
  });

  it('inherited properties are not read as input', () => {
    const body = Object.create({ licence: 'x', version: '1.0.0' });
    assert.equal(fieldOf(body), 'licence');
  });
});

describe('parseLicenceFileRequest', () => {
  it('parses { licence, computerId, nonce } and drops the rest', () => {
    const r = parseLicenceFileRequest({ licence: 'K', computerId: ID, nonce: NONCE, version: 'junk', extra: 1 });
    assert.ok(r.ok);
    assert.deepEqual(r.request, { licence: 'K', computerId: ID, nonce: NONCE });
  });
  it('applies the same field rules', () => {
    const f = (b: unknown) => { const r = parseLicenceFileRequest(b); return r.ok ? 'ok' : r.field; };
    assert.equal(f([]), 'body');
    assert.equal(f({ computerId: ID, nonce: NONCE }), 'licence');
    assert.equal(f({ licence: '😀'.repeat(129), computerId: ID, nonce: NONCE }), 'licence');
    assert.equal(f({ licence: '', computerId: ID.toUpperCase(), nonce: NONCE }), 'computerId');
    assert.equal(f({ licence: '', computerId: ID, nonce: 'short' }), 'nonce');
  });
  it('errors carry a message', () => {
    const r = parseLicenceFileRequest({});
    assert.ok(!r.ok && r.message.length > 0);
  });
});
