import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DAY_MS } from '../../kernel/clock.js';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { buildCustomer, buildStaff, messagesOf, signIn, ticketRows } from './testing.js';
import { applySupportRetention, eraseSupportData, exportSupportData } from './index.js';
import { supportDir } from './attachments.js';

let t: TestApp;
const SUPPORT = 'support@example.com';
const mail = (from: string, subject: string, body: string, extra = '') => ({
  raw: Buffer.from(`From: ${from}\r\nSubject: ${subject}\r\n${extra}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${body}\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nprivate notes\r\n--b--\r\n`),
  mailFrom: from.replace(/.*</, '').replace('>', ''), rcptTo: [SUPPORT], remoteAddress: '127.0.0.1',
});

before(async () => {
  t = await testApp();
  await buildStaff(t, 'sam@vendor.example', 'Sam Support');
});
after(async () => { await t.close(); });

describe('retention', () => {
  test('closed tickets are anonymised after the vendor\'s period, files and originals removed; open ones stay', async () => {
    await t.k.settings.set('support.settings', { retentionDays: 30 });
    await t.k.inbound.deliver(mail('Old Timer <old@example.com>', 'Old problem', 'My serial is 1234.'));
    await t.k.inbound.deliver(mail('Still Open <open@example.com>', 'Open problem', 'Still broken.'));
    const [old, open] = await ticketRows(t);
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    await sam.get(`/admin/tickets/${old!.number}`);
    await sam.post(`/admin/tickets/${old!.number}/status`, { status: 'closed' });
    const files = await t.k.db.selectFrom('support_attachments').select('stored_path').where('ticket_id', '=', old!.id).execute();
    const raw = await t.k.db.selectFrom('support_inbound').select('raw_path').where('ticket_id', '=', old!.id).executeTakeFirstOrThrow();
    assert.ok(fs.existsSync(path.join(supportDir(t.k), files[0]!.stored_path)));

    t.clock.advance(29 * DAY_MS);
    assert.equal((await applySupportRetention(t.k)).anonymised, 0, 'not yet');
    t.clock.advance(2 * DAY_MS);
    await t.k.jobs.drain();
    const after = (await ticketRows(t)).find((x) => x.id === old!.id)!;
    assert.ok(after.anonymised_at, 'the daily job anonymised it');
    assert.equal(after.subject, '[removed]');
    assert.equal(after.number, old!.number, 'the number and dates stay for the records');
    assert.ok((await messagesOf(t, old!.number)).every((m) => m.body_text === '[removed]' && m.author_email === null));
    assert.equal((await t.k.db.selectFrom('support_participants').selectAll().where('ticket_id', '=', old!.id).execute()).length, 0);
    assert.equal((await t.k.db.selectFrom('support_users').selectAll().where('email', '=', 'old@example.com').execute()).length, 0);
    assert.ok(!fs.existsSync(path.join(supportDir(t.k), files[0]!.stored_path)), 'the file is gone');
    assert.ok(!fs.existsSync(path.join(supportDir(t.k), raw.raw_path!)), 'the original email is gone');
    assert.ok(!(await ticketRows(t)).find((x) => x.id === open!.id)!.anonymised_at, 'open tickets are kept');
    await t.k.settings.set('support.settings', {});
  });

  test('a reply to an anonymised ticket starts a new one', async () => {
    const old = (await ticketRows(t)).find((x) => x.anonymised_at)!;
    await t.k.inbound.deliver(mail('old@example.com', `Re: [#${old.number}] Old problem`, 'It is back.'));
    assert.equal((await messagesOf(t, old.number)).length, (await messagesOf(t, old.number)).filter((m) => m.body_text === '[removed]').length);
    assert.ok((await ticketRows(t)).some((x) => x.subject === 'Old problem' && !x.anonymised_at));
  });
});

describe('closed tickets', () => {
  test('a reply within the reopen period reopens; a later one starts a follow-up ticket', async () => {
    await t.k.inbound.deliver(mail('Rae <rae@example.com>', 'Closing soon', 'First.'));
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Closing soon')!;
    const ack = await t.k.db.selectFrom('mail_outbox').select('message_id').where('to_addr', '=', 'rae@example.com').executeTakeFirstOrThrow();
    const close = async () => {
      const sam = await signIn(t, 'staff', 'sam@vendor.example');
      await sam.get(`/admin/tickets/${tk.number}`);
      assert.equal((await sam.post(`/admin/tickets/${tk.number}/status`, { status: 'closed' })).statusCode, 303);
    };
    await close();
    t.clock.advance(13 * DAY_MS);
    await t.k.inbound.deliver(mail('rae@example.com', 'Re: Closing soon', 'Not fixed.', `In-Reply-To: ${ack.message_id}\r\n`));
    assert.equal((await ticketRows(t)).find((x) => x.id === tk.id)!.status, 'open', 'reopened');
    await close();
    t.clock.advance(15 * DAY_MS);
    await t.k.inbound.deliver(mail('rae@example.com', 'Re: Closing soon', 'Broken again.', `In-Reply-To: ${ack.message_id}\r\n`));
    assert.equal((await ticketRows(t)).find((x) => x.id === tk.id)!.status, 'closed', 'stays closed after 14 days');
    const follow = (await ticketRows(t)).filter((x) => x.subject === 'Closing soon' && x.id !== tk.id);
    assert.equal(follow.length, 1);
    assert.ok((await messagesOf(t, follow[0]!.number)).some((m) => m.body_text === `Follow-up to the closed ticket #${tk.number}.`));
  });
});

describe('subject access and erasure helpers', () => {
  test('export finds everything for an address; erasure anonymises their tickets and redacts them elsewhere', async () => {
    const adaId = await buildCustomer(t, 'ada@example.com', 'Ada Lovelace');
    await t.k.inbound.deliver(mail('Ada <ada@example.com>', 'Ada\'s request', 'Ada wrote this.', 'Cc: carl@example.com\r\n'));
    await t.k.inbound.deliver(mail('Carl <carl@example.com>', 'Carl\'s own', 'Carl wrote this.', 'Cc: ada@example.com\r\n'));
    const rows = await ticketRows(t);
    const adas = rows.find((x) => x.subject === 'Ada\'s request')!;
    const carls = rows.find((x) => x.subject === 'Carl\'s own')!;
    await t.k.inbound.deliver(mail('ada@example.com', `[#${carls.number}] me too`, 'Ada adds a comment to Carl\'s ticket.'));

    const exp = await exportSupportData(t.k, 'ADA@example.com', adaId);
    assert.equal(exp.supportUser, null, 'a customer has no separate support record');
    assert.deepEqual(exp.tickets.map((x) => [x.subject, x.role]).sort(), [['Ada\'s request', 'requester'], ['Carl\'s own', 'cc']]);
    assert.ok(exp.tickets[0]!.files.length > 0);
    const carlExport = await exportSupportData(t.k, 'carl@example.com');
    assert.equal(carlExport.supportUser?.name, 'Carl');

    const r = await eraseSupportData(t.k, 'ada@example.com', adaId);
    assert.deepEqual(r, { ticketsAnonymised: 1, ticketsRedacted: 1, forumPosts: 0 });
    assert.ok((await ticketRows(t)).find((x) => x.id === adas.id)!.anonymised_at);
    const carlMsgs = await messagesOf(t, carls.number);
    assert.ok(carlMsgs.some((m) => m.body_text === 'Carl wrote this.'), 'other people\'s words stay');
    assert.ok(!carlMsgs.some((m) => m.body_text.includes('Ada adds')), 'hers are removed');
    assert.equal((await exportSupportData(t.k, 'ada@example.com', adaId)).tickets.length, 0);
    assert.ok(!(JSON.stringify(await t.k.db.selectFrom('support_participants').selectAll().execute())).includes('ada@example.com'));
  });
});
