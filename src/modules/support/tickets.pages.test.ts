import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, type TestApp } from '../../kernel/testing/app.js';
import { TestBrowser, setCookies } from '../../kernel/testing/http.js';
import { buildCustomer, buildStaff, messagesOf, postMultipart, signIn, ticketRows } from './testing.js';

let t: TestApp;
// Every request here comes from one address; the per-IP limit has its own test.
const BASE = { contactPerHour: 1000 };
before(async () => {
  t = await testApp();
  await t.k.settings.set('support.settings', BASE);
  await buildCustomer(t, 'ada@example.com', 'Ada Lovelace');
  await buildCustomer(t, 'bob@example.com', 'Bob Builder');
  await buildStaff(t, 'sam@vendor.example', 'Sam Support');
  await buildStaff(t, 'kim@vendor.example', 'Kim Keeper');
  await buildStaff(t, 'sid@vendor.example', 'Sid Sales', 'sales');
});
after(async () => { await t.close(); });

const outboxTo = (to: string) => t.k.db.selectFrom('mail_outbox').selectAll().where('to_addr', '=', to).orderBy('created_at').execute();
const wait = () => t.clock.advance(5_000);

async function contact(b: TestBrowser, form: Record<string, string>, files: Parameters<typeof postMultipart>[3] = []) {
  await b.get('/support/contact');
  wait();
  return postMultipart(b, '/support/contact', { website: '', ...form }, files);
}

describe('contact form (no JavaScript, no cookie)', () => {
  test('a visitor sends a request: no cookie, ticket with the file, acknowledgement queued', async () => {
    const b = new TestBrowser(t.app);
    for (const url of ['/support', '/support/kb', '/support/kb?q=x', '/support/forum']) assert.deepEqual(setCookies(await b.get(url)), [], url);
    const page = await b.get('/support/contact');
    assert.equal(page.statusCode, 200);
    assert.deepEqual(setCookies(page), []);
    assert.match(page.body, /enctype="multipart\/form-data"/);
    assert.match(page.body, /name="website"/);
    wait();
    const res = await postMultipart(b, '/support/contact', { email: 'Visitor@Example.com', name: 'Vera Visitor', subject: 'Cannot activate', message: 'Activation says code 7.', website: '' },
      [{ name: 'files', filename: 'screen.png', type: 'image/png', content: Buffer.from('PNGDATA') }]);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(setCookies(res), []);
    const number = Number(/<strong>#(\d+)<\/strong>/.exec(res.body)?.[1]);
    const tk = (await ticketRows(t)).find((x) => x.number === number)!;
    assert.equal(tk.channel, 'web');
    assert.equal(tk.subject, 'Cannot activate');
    const files = await t.k.db.selectFrom('support_attachments').select(['filename', 'size']).where('ticket_id', '=', tk.id).execute();
    assert.deepEqual(files, [{ filename: 'screen.png', size: 7 }]);
    const ack = await outboxTo('visitor@example.com');
    assert.equal(ack.length, 1);
    assert.equal(JSON.parse(ack[0]!.headers)['Auto-Submitted'], 'auto-replied');
    // Anyone can type any address into the form: the branded reply carries none of the visitor's words.
    assert.equal(ack[0]!.subject, `[#${number}] We have received your request`);
    assert.doesNotMatch(`${ack[0]!.text_body}${ack[0]!.html_body}`, /Cannot activate/);
    assert.equal((await outboxTo('sam@vendor.example')).length, 1, 'staff are told');
  });

  test('direction controls are taken out of file names and subjects: report\u202Egpj.exe cannot pass for reportexe.jpg', async () => {
    const b = new TestBrowser(t.app);
    await b.get('/support/contact');
    wait();
    const res = await postMultipart(b, '/support/contact', { email: 'rlo@example.com', name: 'R', subject: 'Invoice\u202Efdp.exe', message: 'See file.', website: '' },
      [{ name: 'files', filename: 'report\u202Egpj.exe', type: 'image/jpeg', content: Buffer.from('MZ') }]);
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    const number = Number(/<strong>#(\d+)<\/strong>/.exec(res.body)?.[1]);
    const tk = (await ticketRows(t)).find((x) => x.number === number)!;
    assert.equal(tk.subject, 'Invoicefdp.exe');
    const files = await t.k.db.selectFrom('support_attachments').select('filename').where('ticket_id', '=', tk.id).execute();
    assert.deepEqual(files.map((f) => f.filename), ['reportgpj.exe']);
  });

  test('a long message in Chinese (40,000 characters, 120 KB) arrives whole; one over the limit is refused, never cut short', async () => {
    const b = new TestBrowser(t.app);
    const message = '你好世界。'.repeat(8_002);
    const res = await contact(b, { email: 'li@example.com', name: 'Li', subject: 'Long', message });
    assert.equal(res.statusCode, 200, res.body.slice(0, 500));
    const number = Number(/<strong>#(\d+)<\/strong>/.exec(res.body)?.[1]);
    const tk = (await ticketRows(t)).find((x) => x.number === number)!;
    const [first] = await messagesOf(t, tk.number);
    assert.equal(first!.body_text, message);
    const over = await contact(new TestBrowser(t.app), { email: 'li@example.com', name: 'Li', subject: 'Too long', message: '你'.repeat(50_001) });
    assert.equal(over.statusCode, 400);
    assert.match(over.body, /too long \(at most 50000 characters\)/);
  });

  test('robots: a filled honeypot is thanked and ignored; a form posted too fast is shown again', async () => {
    const count = (await ticketRows(t)).length;
    const b = new TestBrowser(t.app);
    const trap = await contact(b, { email: 'bot@example.com', subject: 'Buy now', message: 'spam', website: 'http://spam.example' });
    assert.equal(trap.statusCode, 200);
    assert.match(trap.body, /Thank you/);
    await b.get('/support/contact');
    const fast = await postMultipart(b, '/support/contact', { email: 'quick@example.com', subject: 'Hi', message: 'Hello', website: '' });
    assert.equal(fast.statusCode, 400);
    assert.match(fast.body, /quicker than we expected/);
    assert.match(fast.body, /value="quick@example.com"/, 'what was typed is kept');
    const forged = await postMultipart(b, '/support/contact', { email: 'quick@example.com', subject: 'Hi', message: 'Hello', website: '', stamp: '0.AAAA' });
    assert.equal(forged.statusCode, 400);
    assert.equal((await ticketRows(t)).length, count, 'nothing stored');
    assert.equal((await outboxTo('bot@example.com')).length, 0);
  });

  test('bad input re-shows the form with the message beside the field; never a 500', async () => {
    const b = new TestBrowser(t.app);
    const noEmail = await contact(b, { email: 'not an address', subject: 'x', message: 'y' });
    assert.equal(noEmail.statusCode, 400);
    assert.match(noEmail.body, /class="error" id="f-email-error"/);
    const noText = await contact(b, { email: 'a@example.com', subject: 'x', message: '   ' });
    assert.equal(noText.statusCode, 400);
    assert.match(noText.body, /Enter your message/);
    await t.k.settings.set('support.settings', { ...BASE, attachmentMaxMb: 1 });
    const big = await contact(b, { email: 'a@example.com', subject: 'Dump', message: 'attached' }, [{ name: 'files', filename: 'dump.bin', type: 'application/octet-stream', content: Buffer.alloc(1100 * 1024) }]);
    await t.k.settings.set('support.settings', BASE);
    assert.equal(big.statusCode, 400);
    assert.match(big.body, /Too large \(each file may be at most 1 MB\): dump\.bin/);
    assert.match(big.body, /value="Dump"/);
    // Too many files: the form again, with what was typed and a message in words (not the parser's).
    const many = Array.from({ length: 30 }, (_, i) => ({ name: 'files', filename: `shot${i}.png`, type: 'image/png', content: Buffer.from(`png ${i}`) }));
    const tickets = (await ticketRows(t)).length;
    const tooMany = await contact(b, { email: 'a@example.com', subject: 'Screens', message: 'Thirty screenshots of the problem.' }, many);
    assert.equal(tooMany.statusCode, 400);
    assert.match(tooMany.body, /Attach at most 10 files/);
    assert.match(tooMany.body, /Thirty screenshots of the problem\./);
    assert.equal((await ticketRows(t)).length, tickets, 'no ticket');
    const hostile = await contact(b, { email: 'a@example.com', subject: 'x', message: 'y' }, Array.from({ length: 45 }, (_, i) => ({ name: 'files', filename: `f${i}`, type: 'text/plain', content: Buffer.from('x') })));
    assert.equal(hostile.statusCode, 400);
    assert.doesNotMatch(hostile.body, /reach files limit/);
    assert.match(hostile.body, /more files than it accepts/);
    const garbage = await b.app.inject({ method: 'POST', url: '/support/contact', payload: '--x\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=x', accept: 'text/html' } });
    assert.ok(garbage.statusCode >= 400 && garbage.statusCode < 500, String(garbage.statusCode));
  });

  test('per-IP rate limit', async () => {
    await t.k.settings.set('support.settings', { contactPerHour: 1 });
    try {
      const b = new TestBrowser(t.app, { 'x-test': 'rate' });
      await contact(b, { email: 'r@example.com', subject: 'One', message: 'one' });
      const second = await contact(b, { email: 'r@example.com', subject: 'Two', message: 'two' });
      assert.equal(second.statusCode, 429);
    } finally { await t.k.settings.set('support.settings', BASE); }
  });
});

describe('My account → support requests', () => {
  test('a customer sees their own requests, replies, and cannot reach another customer\'s by changing the number or id', async () => {
    const ada = await signIn(t, 'customer', 'ada@example.com');
    const sent = await contact(ada, { subject: 'Ada needs help', message: 'Secret details of Ada.' }, [{ name: 'files', filename: 'ada.txt', type: 'text/plain', content: Buffer.from('ada private') }]);
    assert.equal(sent.statusCode, 200, sent.body);
    assert.match(sent.body, /href="\/account\/tickets\/\d+"/);
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Ada needs help')!;
    const ack = (await outboxTo('ada@example.com')).find((m) => m.subject.startsWith(`[#${tk.number}]`))!;
    assert.equal(ack.subject, `[#${tk.number}] Received: Ada needs help`, 'a signed-in customer\'s address is the account\'s: her subject is quoted');
    const list = await ada.get('/account/tickets');
    assert.match(list.body, /Ada needs help/);
    const view = await ada.get(`/account/tickets/${tk.number}`);
    assert.equal(view.statusCode, 200);
    const fileId = /\/support\/attachments\/([0-9a-f-]{36})/.exec(view.body)![1]!;
    const own = await ada.get(`/support/attachments/${fileId}`);
    assert.equal(own.statusCode, 200);
    assert.equal(own.body, 'ada private');
    assert.match(String(own.headers['content-disposition']), /^attachment; filename="ada.txt"/);

    const bob = await signIn(t, 'customer', 'bob@example.com');
    assert.doesNotMatch((await bob.get('/account/tickets')).body, /Ada needs help/);
    const peek = await bob.get(`/account/tickets/${tk.number}`);
    assert.equal(peek.statusCode, 404);
    assert.doesNotMatch(peek.body, /Secret details/);
    assert.equal((await bob.get(`/support/attachments/${fileId}`)).statusCode, 404);
    await bob.get('/account/tickets');
    const sneak = await postMultipart(bob, `/account/tickets/${tk.number}/reply`, { message: 'Bob was here' });
    assert.equal(sneak.statusCode, 404);
    const anon = await new TestBrowser(t.app).get(`/support/attachments/${fileId}`);
    assert.equal(anon.statusCode, 303, 'strangers are sent to sign in');
    const sales = await signIn(t, 'staff', 'sid@vendor.example');
    assert.notEqual((await sales.get(`/support/attachments/${fileId}`)).statusCode, 200, 'sales staff do not read tickets');

    await ada.get(`/account/tickets/${tk.number}`);
    const r = await postMultipart(ada, `/account/tickets/${tk.number}/reply`, { message: 'More detail from Ada.' });
    assert.equal(r.statusCode, 303);
    const msgs = await messagesOf(t, tk.number);
    assert.equal(msgs.at(-1)!.body_text, 'More detail from Ada.');
    assert.ok(!msgs.some((m) => m.body_text.includes('Bob was here')));
  });
});

describe('staff queue', () => {
  test('list with filters, note, assign, tags, status, canned reply and reply with a file link', async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Ada needs help')!;
    const list = await sam.get('/admin/tickets');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Ada needs help/);
    assert.match((await sam.get('/admin/tickets?q=ada%40example')).body, /Ada needs help/);
    assert.doesNotMatch((await sam.get('/admin/tickets?q=%25%25nothing')).body, /Ada needs help/, 'LIKE wildcards are taken literally');
    assert.match((await sam.get(`/admin/tickets?q=%23${tk.number}`)).body, /Ada needs help/);
    assert.equal((await sam.get('/admin/tickets?status=bogus')).statusCode, 400);

    const url = `/admin/tickets/${tk.number}`;
    await sam.get(url);
    assert.equal((await sam.post(`${url}/note`, { note: 'Known issue, see KB.' })).statusCode, 303);
    const kim = (await t.k.db.selectFrom('staff').select('id').where('email', '=', 'kim@vendor.example').executeTakeFirstOrThrow()).id;
    await sam.get(url);
    assert.equal((await sam.post(`${url}/assign`, { assignee: kim })).statusCode, 303);
    await sam.get(url);
    const badTags = await sam.post(`${url}/tags`, { tags: 'activation, <script>' });
    assert.equal(badTags.statusCode, 400);
    assert.match(badTags.body, /Tags are words/);
    await sam.get(url);
    await sam.post(`${url}/tags`, { tags: 'Activation, licence' });
    assert.match((await sam.get('/admin/tickets?tag=activation&assignee=any')).body, /Ada needs help/);
    assert.doesNotMatch((await sam.get('/admin/tickets?assignee=me')).body, /Ada needs help/, 'assigned to Kim, not Sam');

    await sam.get('/admin/tickets/canned');
    await sam.post('/admin/tickets/canned', { title: 'Reinstall', body: 'Please reinstall from the downloads page.' });
    const cannedId = /\/admin\/tickets\/canned\/([0-9a-f-]{36})/.exec((await sam.get('/admin/tickets/canned')).body)![1]!;
    const withCanned = await sam.get(`${url}?canned=${cannedId}`);
    assert.match(withCanned.body, /<textarea[^>]*name="text"[^>]*>Please reinstall from the downloads page\.<\/textarea>/);

    const reply = await postMultipart(sam, `${url}/reply`, { text: 'Please reinstall; the patch is attached.' }, [{ name: 'files', filename: 'patch.zip', type: 'application/zip', content: Buffer.from('PK-patch') }]);
    assert.equal(reply.statusCode, 303);
    const page = await sam.get(`${url}?done=replied`);
    assert.match(page.body, /Your reply has been sent/);
    for (const odd of ['constructor', 'toString', 'nonsense']) assert.doesNotMatch((await sam.get(`${url}?done=${odd}`)).body, /class="flash/, `?done=${odd} says nothing`);
    assert.match(page.body, /Known issue, see KB\./, 'staff see internal notes');
    assert.match(page.body, /Waiting on customer/);
    const adaView = await (await signIn(t, 'customer', 'ada@example.com')).get(`/account/tickets/${tk.number}`);
    assert.doesNotMatch(adaView.body, /Known issue/, 'customers never see internal notes');
    assert.match(adaView.body, /the patch is attached/);

    const mail = (await outboxTo('ada@example.com')).find((m) => m.text_body.includes('the patch is attached'))!;
    const link = /https?:\/\/[^/\s]+(\/support\/files\/[^\s]+)/.exec(mail.text_body)![1]!;
    const dl = await t.app.inject({ method: 'GET', url: link });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.body, 'PK-patch');
    assert.equal(dl.headers['content-type'], 'application/octet-stream', 'served as bytes, never rendered');
    assert.equal((await t.app.inject({ method: 'GET', url: link.replace(/s=[^&]+/, 's=AAAA') })).statusCode, 404);

    await sam.get(url);
    const spam = await sam.post(`${url}/status`, { status: 'spam' });
    assert.equal(spam.statusCode, 303);
    await sam.get(url);
    const bad = await sam.post(`${url}/status`, { status: 'pending' });
    assert.equal(bad.statusCode, 409);
    assert.match(bad.body, /A ticket that is spam cannot become pending/);
    await sam.get(url);
    await sam.post(`${url}/status`, { status: 'open' });
    assert.equal((await ticketRows(t)).find((x) => x.id === tk.id)!.status, 'open');
  });

  test('merge moves the conversation; the old number leads to the new ticket', async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    const ada = await signIn(t, 'customer', 'ada@example.com');
    await contact(ada, { subject: 'Ada again', message: 'Same problem, new mail.' });
    const rows = await ticketRows(t);
    const target = rows.find((x) => x.subject === 'Ada needs help')!;
    const source = rows.find((x) => x.subject === 'Ada again')!;
    await sam.get(`/admin/tickets/${source.number}`);
    const self = await sam.post(`/admin/tickets/${source.number}/merge`, { into: String(source.number) });
    assert.equal(self.statusCode, 400);
    assert.match(self.body, /cannot be merged into itself/);
    await sam.get(`/admin/tickets/${source.number}`);
    const r = await sam.post(`/admin/tickets/${source.number}/merge`, { into: `#${target.number}` });
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, `/admin/tickets/${target.number}?done=merged`);
    const msgs = await messagesOf(t, target.number);
    assert.ok(msgs.some((m) => m.body_text === 'Same problem, new mail.'));
    const old = await ada.get(`/account/tickets/${source.number}`);
    assert.equal(old.statusCode, 303);
    assert.equal(old.headers.location, `/account/tickets/${target.number}`);
    assert.doesNotMatch((await ada.get('/account/tickets')).body, /Ada again/);
    // To another customer the old number is not found: no redirect tells where it went.
    const bob = await signIn(t, 'customer', 'bob@example.com');
    const stranger = await bob.get(`/account/tickets/${source.number}`);
    assert.equal(stranger.statusCode, 404);
    assert.equal(stranger.headers.location, undefined);
  });

  test("merging another person's ticket needs a yes: each would see the other's messages and files", async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    const ada = await signIn(t, 'customer', 'ada@example.com');
    const bob = await signIn(t, 'customer', 'bob@example.com');
    await contact(ada, { subject: 'Ada private matter', message: 'My server password is in this ticket.' });
    await contact(bob, { subject: 'Bob asks too', message: 'Bob here.' });
    const rows = await ticketRows(t);
    const adas = rows.find((x) => x.subject === 'Ada private matter')!;
    const bobs = rows.find((x) => x.subject === 'Bob asks too')!;
    await sam.get(`/admin/tickets/${bobs.number}`);
    const refused = await sam.post(`/admin/tickets/${bobs.number}/merge`, { into: String(adas.number) });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /is from someone else/);
    assert.equal((await bob.get(`/account/tickets/${adas.number}`)).statusCode, 404, 'nothing moved');
    assert.ok(!(await messagesOf(t, adas.number)).some((m) => m.body_text === 'Bob here.'));

    await sam.get(`/admin/tickets/${bobs.number}`);
    const yes = await sam.post(`/admin/tickets/${bobs.number}/merge`, { into: String(adas.number), people: 'yes' });
    assert.equal(yes.statusCode, 303);
    assert.ok((await messagesOf(t, adas.number)).some((m) => m.body_text === 'Bob here.'));
    assert.equal((await bob.get(`/account/tickets/${adas.number}`)).statusCode, 200, 'as the staff member agreed');
  });

  test('merges at the same moment: A into B with B into A makes no cycle; A into B with B into C leaves no message on a merged ticket', async () => {
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    const ada = await signIn(t, 'customer', 'ada@example.com');
    const open = async (subject: string) => {
      await contact(ada, { subject, message: `Message of ${subject}.` });
      return (await ticketRows(t)).find((x) => x.subject === subject)!;
    };
    const merge = async (from: number, into: number) => {
      await sam.get(`/admin/tickets/${from}`);
      return { _csrf: sam.csrf(), into: String(into) };
    };
    const [a, b] = [await open('Race A'), await open('Race B')];
    const forms = [await merge(a.number, b.number), await merge(b.number, a.number)];
    const res = await Promise.all([sam.post(`/admin/tickets/${a.number}/merge`, forms[0]!), sam.post(`/admin/tickets/${b.number}/merge`, forms[1]!)]);
    assert.deepEqual(res.map((r) => r.statusCode).sort(), [303, 400], res.map((r) => r.statusCode).join(','));
    const rows = (await ticketRows(t)).filter((x) => x.id === a.id || x.id === b.id);
    assert.equal(rows.filter((x) => x.merged_into_id).length, 1, 'one ticket holds the conversation');

    const [c, d, e] = [await open('Chain C'), await open('Chain D'), await open('Chain E')];
    const chain = [await merge(c.number, d.number), await merge(d.number, e.number)];
    const chained = await Promise.all([sam.post(`/admin/tickets/${c.number}/merge`, chain[0]!), sam.post(`/admin/tickets/${d.number}/merge`, chain[1]!)]);
    // Either order may win; if D went into E first, C into D is refused (D is merged). Either way no
    // customer message stays on a merged ticket, where nobody would see it.
    const after = (await ticketRows(t)).filter((x) => [c.id, d.id, e.id].includes(x.id));
    assert.ok(after.find((x) => x.id === d.id)!.merged_into_id, 'D went into E');
    assert.equal(Boolean(after.find((x) => x.id === c.id)!.merged_into_id), chained[0]!.statusCode === 303, chained.map((r) => r.statusCode).join(','));
    for (const x of after) {
      const customerWords = (await messagesOf(t, x.number)).filter((m) => m.kind !== 'system');
      if (x.merged_into_id) assert.deepEqual(customerWords.map((m) => m.body_text), [], `merged ${x.subject} keeps nothing`);
    }
  });

  test('an anonymised ticket is not listed in My account (it cannot be opened either)', async () => {
    const ada = await signIn(t, 'customer', 'ada@example.com');
    await contact(ada, { subject: 'Ada, soon anonymised', message: 'Please forget this one.' });
    const tk = (await ticketRows(t)).find((x) => x.subject === 'Ada, soon anonymised')!;
    assert.match((await ada.get('/account/tickets')).body, /Ada, soon anonymised/);
    await t.k.db.updateTable('support_tickets').set({ anonymised_at: t.clock.now() }).where('id', '=', tk.id).execute();
    assert.doesNotMatch((await ada.get('/account/tickets')).body, new RegExp(`/account/tickets/${tk.number}"`));
    assert.equal((await ada.get(`/account/tickets/${tk.number}`)).statusCode, 404);
  });

  test('settings: validated, and the support address change is picked up by the mail intake', async () => {
    const owner = await buildStaff(t, 'olga@vendor.example', 'Olga Owner', 'owner');
    assert.ok(owner);
    const o = await signIn(t, 'staff', 'olga@vendor.example');
    await o.get('/admin/tickets/settings');
    const bad = await o.post('/admin/tickets/settings', { address: 'nope', autoAcknowledge: '1', ackLimit: '3', ackWindowHours: '6', reopenDays: '14', retentionDays: '730', attachmentMaxMb: '5', contactPerHour: '10', minFillSeconds: '3' });
    assert.equal(bad.statusCode, 400);
    await o.get('/admin/tickets/settings');
    const ok = await o.post('/admin/tickets/settings', { address: 'help@vendor.example', autoAcknowledge: '1', ackLimit: '3', ackWindowHours: '6', reopenDays: '14', retentionDays: '730', attachmentMaxMb: '5', contactPerHour: '100', minFillSeconds: '3' });
    assert.match(ok.body, /Settings saved/);
    assert.ok(t.k.inbound.handlerFor('help@vendor.example'));
    assert.ok(t.k.inbound.handlerFor('help+billing@vendor.example'));
    assert.equal(t.k.inbound.handlerFor('support@example.com')?.name === 'support', false);
    const sam = await signIn(t, 'staff', 'sam@vendor.example');
    assert.equal((await sam.get('/admin/tickets/settings')).statusCode, 403, 'support agents do not change settings');
    await t.k.settings.set('support.settings', BASE);
    await t.modules.support.refreshAddress();
  });

  test("with no address of its own, the helpdesk uses the branding's support address: the help page, the intake and the hint agree", async () => {
    const before = await t.k.settings.get('vendor.brand', {});
    assert.equal((await t.k.settings.get<{ address?: string | null }>('support.settings', {})).address ?? null, null, 'BASE sets none');
    // Before the vendor saves a branding, one placeholder everywhere (the help page and the blog's
    // sign-up text once named two different addresses).
    assert.match((await new TestBrowser(t.app).get('/support')).body, /mailto:support@example\.com/);
    assert.match((await new TestBrowser(t.app).get('/blog')).body, /writing to support@example\.com/);
    await t.k.settings.set('vendor.brand', { ...before, supportEmail: 'help@brand.example' });
    await t.modules.support.refreshAddress();
    assert.match((await new TestBrowser(t.app).get('/support')).body, /mailto:help@brand\.example/);
    assert.equal(t.k.inbound.handlerFor('help@brand.example')?.name, 'support');
    assert.equal(t.k.inbound.handlerFor('support@example.com')?.name === 'support', false);
    const o = await signIn(t, 'staff', 'olga@vendor.example');
    assert.match((await o.get('/admin/tickets/settings')).body, /Empty: help@brand\.example/);
    await t.k.settings.set('vendor.brand', before);
    await t.modules.support.refreshAddress();
    assert.equal(t.k.inbound.handlerFor('support@example.com')?.name, 'support');
  });
});
