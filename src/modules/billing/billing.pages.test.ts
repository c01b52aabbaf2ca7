import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { staffBrowser } from '../newsletter/testing.js';
import { loadBank, loadExchangeRates, loadSeller } from './index.js';

let t: TestApp;

before(async () => { t = await testApp(); });
after(async () => { await t.close(); });

describe('Admin → Billing', () => {
  test('managers save the exchange rates there; the seller and bank details are only shown, and only the owner changes them, in Settings', async () => {
    const owner = await staffBrowser(t, 'owner');
    const admin = await staffBrowser(t, 'admin');
    await owner.get('/admin/settings');
    assert.equal((await owner.post('/admin/settings/seller', { name: 'Vendor Ltd', address: '1 High Street\nLeeds', vat_number: 'GB123456789', company_number: '01234567' })).statusCode, 200);
    assert.equal((await owner.post('/admin/settings/bank', { account_name: 'Vendor Ltd', bank_name: 'Bank', sort_code: '12-34-56', account_number: '12345678', iban: '', bic: '', payment_terms_days: '14' })).statusCode, 200);
    const before = { seller: await loadSeller(t.k.settings), bank: await loadBank(t.k.settings) };

    const page = await admin.get('/admin/billing');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Vendor Ltd/);
    assert.match(page.body, /12-34-56/);
    assert.doesNotMatch(page.body, /name="iban"|name="account_name"|name="vat_number"/, 'no form field for the seller or the bank');
    assert.match(page.body, /The owner changes these in Settings/);
    assert.match((await owner.get('/admin/billing')).body, /href="\/admin\/settings#bank"/);

    // An admin posting the old form's bank and seller fields changes nothing and is refused.
    const forged = await admin.post('/admin/billing', { rate_EUR: '0.85', iban: 'NOT AN IBAN', account_name: 'Mallory', name: 'Mallory Ltd', address: 'Elsewhere', vat_number: '' });
    assert.equal(forged.statusCode, 400);
    assert.deepEqual({ seller: await loadSeller(t.k.settings), bank: await loadBank(t.k.settings) }, before);

    const saved = await admin.post('/admin/billing', { rate_EUR: '0.856123', rate_USD: '' });
    assert.equal(saved.statusCode, 200);
    assert.match(saved.body, /Saved\./);
    assert.deepEqual(await loadExchangeRates(t.k.settings), { EUR: 856_123 });
    assert.deepEqual({ seller: await loadSeller(t.k.settings), bank: await loadBank(t.k.settings) }, before);

    const bad = await admin.post('/admin/billing', { rate_EUR: 'twelve', rate_USD: '' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /The EUR rate must be a positive number/);
    assert.match(bad.body, /value="twelve"/, 'what was typed comes back');
    assert.deepEqual(await loadExchangeRates(t.k.settings), { EUR: 856_123 });

    const sales = await staffBrowser(t, 'sales');
    assert.equal((await sales.get('/admin/billing')).statusCode, 200);
    assert.equal((await sales.post('/admin/billing', { rate_EUR: '1.5' })).statusCode, 403);
  });
});
