import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../app.js';
import { createKernel } from '../../kernel/context.js';
import { ManualClock } from '../../kernel/clock.js';
import { migrateToLatest } from '../../kernel/db/migrate.js';
import { silentLog, testConfig } from '../../kernel/testing/db.js';
import { SmtpPeer } from '../../kernel/testing/smtp.js';
import { allMigrations } from '../../migrations.js';
import { NEWSLETTER_SETTING } from './newsletter.settings.js';
import { drainAll, seedSubscribers } from './testing.js';

test('a crash and restart in the middle of a send: everyone gets the campaign, nobody twice', async () => {
  const peer = await new SmtpPeer().start();
  const { config, cleanup } = await testConfig({ smtpUrl: peer.url, mailFrom: 'Vendor <news@vendor.example>' });
  const clock = new ManualClock();
  try {
    // ---- the first process ----
    const k1 = createKernel(config, { clock, log: silentLog });
    await migrateToLatest(k1.db, allMigrations, k1.dbh.schema);
    const app1 = await buildApp(k1);
    await k1.settings.set(NEWSLETTER_SETTING, { ratePerMinute: 100, unconfirmedDays: 14, fromAddress: '', mailDomain: '' });
    const emails = await seedSubscribers(k1, 300);
    const { campaigns } = app1.newsletter;
    const id = await campaigns.create({ listId: 'newsletter', subject: 'Restart-proof', intro: 'Hello.' }, 'staff-test');
    assert.equal(await campaigns.start(id, 'staff-test', null), 300);
    const outbox = async () => (await k1.db.selectFrom('mail_outbox').select('id').where('subject', '=', 'Restart-proof').execute()).length;
    await k1.jobs.runDue(1); // batch 1: 100 messages to the outbox
    assert.equal(await outbox(), 100);
    await k1.jobs.runDue(40); // some of them delivered
    await k1.jobs.claim(30); // a worker takes 30 deliveries and dies holding their leases

    // Batch 2 fails half-way through its transaction: nothing of it may remain.
    clock.advance(60_000);
    const send = k1.mail.send.bind(k1.mail);
    let calls = 0;
    k1.mail.send = async (...args) => {
      if (++calls === 50) throw new Error('simulated crash in the middle of a batch');
      return send(...args);
    };
    await k1.jobs.runDue(1);
    assert.equal(await outbox(), 100, 'the failed batch left no message behind');
    assert.equal((await campaigns.progress(id)).handedToOutbox, 100);
    k1.mail.send = send;

    // Batch 2 runs (with the remaining due deliveries), commits, and the process dies before marking its
    // job done: it will run again after the restart.
    clock.advance(5_000);
    const ran = await k1.db.selectFrom('jobs').select('id').where('name', '=', 'newsletter.send-batch').where('status', '=', 'queued').where('run_at', '<=', clock.now()).execute();
    assert.equal(ran.length, 1);
    await k1.jobs.runDue(100);
    assert.equal(await outbox(), 200);
    await k1.db.updateTable('jobs').set({ status: 'running', locked_until: clock.now() + 1000, finished_at: null }).where('id', '=', ran[0]!.id).execute();
    const deliveredBefore = peer.received.length;
    assert.ok(deliveredBefore >= 30 && deliveredBefore < 300, `part-way: ${deliveredBefore} delivered`);
    await app1.app.close();
    await k1.close();

    // ---- a new process on the same database resumes ----
    const k2 = createKernel(config, { clock, log: silentLog });
    const app2 = await buildApp(k2);
    try {
      clock.advance(6 * 60_000); // the dead worker's leases expire
      await drainAll(k2, clock);
      const got = peer.received.filter((m) => m.subject === 'Restart-proof');
      const perAddress = new Map<string, number>();
      for (const m of got) for (const to of m.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
      assert.deepEqual([...perAddress.values()].filter((n) => n > 1), [], 'nobody twice');
      assert.deepEqual(new Set(perAddress.keys()), new Set(emails), 'everyone once');
      assert.equal(got.length, 300);
      const c = await k2.db.selectFrom('newsletter_campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(c.status, 'sent');
      assert.equal((await app2.newsletter.campaigns.progress(id)).delivered, 300);
    } finally {
      await app2.app.close();
      await k2.close();
    }
  } finally {
    await cleanup();
    await peer.stop();
  }
});
