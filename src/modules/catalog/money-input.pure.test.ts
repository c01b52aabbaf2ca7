import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMoney } from './catalog.service.js';

test('prices typed by staff: a point before the pence, commas only between groups of thousands', () => {
  const ok: Array<[string, number]> = [
    ['199', 19_900], ['199.5', 19_950], ['199.50', 19_950], [' 0.99 ', 99], ['1,299.50', 129_950], ['1,234,567', 123_456_700], ['999999999', 99_999_999_900],
  ];
  for (const [typed, minor] of ok) assert.equal(parseMoney(typed), minor, typed);
  // A decimal comma ("12,50") was read as 1250.00: a hundred times the price, without a word.
  for (const typed of ['12,50', '1,2,3', '1,2345', ',500', '1,000,', '12,5', '1.234,56', '1,000,000,000', '', '-5', '1e3', '12.345', 'twelve']) {
    assert.throws(() => parseMoney(typed), /must be an amount like 199 or 1,299\.50/, typed);
  }
});
