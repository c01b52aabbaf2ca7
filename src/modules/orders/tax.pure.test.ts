import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideTax, normaliseVatNumber, phoneCountry, DEFAULT_RATES_BP, REVERSE_CHARGE_NOTICE, OUTSIDE_SCOPE_NOTICE, type TaxTreatment } from './tax.js';
import { canTransition, TRANSITIONS } from './state.js';

const now = Date.UTC(2026, 10, 25);

describe('tax decision table', () => {
  const cases: Array<{ name: string; country: string; vat?: string; treatment: TaxTreatment; rateBp: number; vatNumber?: string | null; notice?: string | null }> = [
    { name: 'UK consumer pays UK VAT', country: 'GB', treatment: 'uk_vat', rateBp: 2000, notice: null },
    { name: 'UK business with a VAT number still pays UK VAT', country: 'GB', vat: 'GB 123 4567 89', treatment: 'uk_vat', rateBp: 2000, vatNumber: 'GB123456789' },
    { name: '"UK" is read as GB', country: 'uk', treatment: 'uk_vat', rateBp: 2000 },
    { name: 'German business with a VAT number is reverse-charged', country: 'DE', vat: 'DE123456789', treatment: 'eu_reverse_charge', rateBp: 0, vatNumber: 'DE123456789', notice: REVERSE_CHARGE_NOTICE },
    { name: 'VAT number typed without its prefix and with spaces', country: 'FR', vat: '12 345678901', treatment: 'eu_reverse_charge', rateBp: 0, vatNumber: 'FR12345678901' },
    { name: 'Greek numbers carry EL', country: 'GR', vat: '123456789', treatment: 'eu_reverse_charge', rateBp: 0, vatNumber: 'EL123456789' },
    { name: 'Dutch number with its B', country: 'NL', vat: 'nl123456789b01', treatment: 'eu_reverse_charge', rateBp: 0, vatNumber: 'NL123456789B01' },
    { name: 'German consumer pays German VAT (OSS)', country: 'DE', treatment: 'eu_oss', rateBp: 1900, vatNumber: null, notice: null },
    { name: 'Finnish consumer pays 25.5%', country: 'FI', treatment: 'eu_oss', rateBp: 2550 },
    { name: 'Irish consumer pays 23%', country: 'IE', treatment: 'eu_oss', rateBp: 2300 },
    { name: 'US buyer is outside the scope', country: 'US', treatment: 'outside_scope', rateBp: 0, notice: OUTSIDE_SCOPE_NOTICE },
    { name: 'Swiss business is outside the scope', country: 'CH', vat: 'CHE-123.456.789', treatment: 'outside_scope', rateBp: 0 },
    { name: 'Norwegian consumer is outside the scope', country: 'NO', treatment: 'outside_scope', rateBp: 0 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = decideTax({ country: c.country, vatNumber: c.vat ?? null, ratesBp: DEFAULT_RATES_BP, now });
      assert.equal(d.treatment, c.treatment);
      assert.equal(d.rateBp, c.rateBp);
      if (c.vatNumber !== undefined) assert.equal(d.vatNumber, c.vatNumber);
      if (c.notice !== undefined) assert.equal(d.notice, c.notice);
      assert.equal(d.evidence.billingCountry, d.country, 'the evidence records the billing country');
      assert.equal(d.evidence.decidedAt, now);
    });
  }

  test('the rates table staff edit is what is charged', () => {
    assert.equal(decideTax({ country: 'DE', ratesBp: { ...DEFAULT_RATES_BP, DE: 1600 }, now }).rateBp, 1600);
    assert.equal(decideTax({ country: 'GB', ratesBp: { ...DEFAULT_RATES_BP, GB: 1750 }, now }).rateBp, 1750);
  });

  test('an EU country without a rate is refused, not charged 0%', () => {
    const { DE: _de, ...rates } = DEFAULT_RATES_BP;
    assert.throws(() => decideTax({ country: 'DE', ratesBp: rates, now }), { code: 'ORD_INVALID_COUNTRY' });
  });

  const absurd: Array<[string, string]> = [
    ['DE', '12345'], ['DE', 'DE12345678X'], ['DE', 'FR123456789'], ['DE', 'hello world'], ['IT', '1'.repeat(40)],
    ['NL', 'NL123456789'], ['AT', '12345678'], ['DE', '<script>'], ['GB', 'GB12'], ['SE', '123456789012'],
  ];
  for (const [country, vat] of absurd) {
    test(`absurd VAT number ${JSON.stringify(vat.slice(0, 20))} for ${country} is a clear error`, () => {
      assert.throws(() => decideTax({ country, vatNumber: vat, ratesBp: DEFAULT_RATES_BP, now }), (err: Error & { code?: string; statusCode?: number }) => {
        assert.equal(err.code, 'ORD_INVALID_VAT_NUMBER');
        assert.equal(err.statusCode, 400);
        assert.match(err.message, new RegExp(country));
        return true;
      });
    });
  }

  test('unknown countries are refused', () => {
    for (const c of ['XX', '', 'Germany', 'EU', 'D', 'GBR']) assert.throws(() => decideTax({ country: c, ratesBp: DEFAULT_RATES_BP, now }), { code: 'ORD_INVALID_COUNTRY' });
  });

  test('normalised VAT numbers', () => {
    assert.equal(normaliseVatNumber('AT', 'atu12345678'), 'ATU12345678');
    assert.equal(normaliseVatNumber('BE', 'BE 0123.456.789'), 'BE0123456789');
    assert.equal(normaliseVatNumber('SE', '556677889901'), 'SE556677889901');
  });
});

describe('order state machine', () => {
  test('the happy path and the side exits are allowed; everything else is not', () => {
    const allowed = ['draft>awaiting_payment', 'draft>cancelled', 'awaiting_payment>paid', 'awaiting_payment>cancelled', 'paid>fulfilled',
      'paid>partly_refunded', 'paid>refunded', 'fulfilled>partly_refunded', 'fulfilled>refunded', 'partly_refunded>partly_refunded', 'partly_refunded>refunded'];
    const states = Object.keys(TRANSITIONS) as Array<keyof typeof TRANSITIONS>;
    for (const from of states) for (const to of states) {
      assert.equal(canTransition(from, to), allowed.includes(`${from}>${to}`), `${from} → ${to}`);
    }
  });
});

describe('location evidence from the telephone number (EU consumers)', () => {
  test('the country code decides; the longest code wins; a national number says nothing', () => {
    assert.deepEqual(phoneCountry('+358 9 1234 5678'), { prefix: '+358', country: 'FI' });
    assert.deepEqual(phoneCountry('0049 30 1234567'), { prefix: '+49', country: 'DE' });
    assert.deepEqual(phoneCountry('+44 (20) 7946-0001'), { prefix: '+44', country: 'GB' });
    assert.deepEqual(phoneCountry('+1 212 555 0100'), { prefix: '+121', country: 'other' });
    assert.deepEqual(phoneCountry('030 1234567'), { prefix: null, country: null });
    assert.deepEqual(phoneCountry('+4'), { prefix: null, country: null });
  });

  test('web checkout: an EU consumer needs a telephone country code that agrees; businesses, the UK and phone orders do not', () => {
    const base = { ratesBp: DEFAULT_RATES_BP, now: 0 };
    assert.throws(() => decideTax({ ...base, country: 'DE', phone: '+44 20 7946 0001', requireSecondEvidence: true }), /second sign that you are in Germany.*\+49/);
    assert.throws(() => decideTax({ ...base, country: 'DE', phone: '030 1234567', requireSecondEvidence: true }), /ORD_VAT_EVIDENCE|second sign/);
    const ok = decideTax({ ...base, country: 'DE', phone: '+49 30 1234567', requireSecondEvidence: true });
    assert.equal(ok.treatment, 'eu_oss');
    assert.equal(ok.evidence.evidenceAgrees, true);
    assert.equal(decideTax({ ...base, country: 'DE', vatNumber: 'DE123456789', phone: '+44 20 7946 0001', requireSecondEvidence: true }).treatment, 'eu_reverse_charge');
    assert.equal(decideTax({ ...base, country: 'GB', phone: '+49 30 1234567', requireSecondEvidence: true }).treatment, 'uk_vat');
    const byPhone = decideTax({ ...base, country: 'DE', phone: '+44 20 7946 0001', requireSecondEvidence: false });
    assert.deepEqual([byPhone.treatment, byPhone.evidence.evidenceAgrees], ['eu_oss', false], 'staff taking an order by phone decide; the disagreement is recorded');
  });
});
