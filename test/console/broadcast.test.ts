import assert from 'node:assert/strict';
import { paymentNoticeSignal } from '../../workflows/purchase-messages';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from '../api/harness';
import { until } from '../support/journey';
import type { PurchaseSystem } from '../support/system';

/** Users telegram ids [from, from + n) with one language, inserted in one statement. */
async function insertUsers(sys: PurchaseSystem, from: number, n: number, language = 'en') {
  await sys.orm.em
    .getConnection()
    .execute(
      `insert into users (telegram_id, language) select g, ? from generate_series(?::bigint, ?::bigint) g`,
      [language, from, from + n - 1],
    );
}

/**
 * Broadcasts on the real workflow, worker and Telegram queue, against the Bot API emulator: pause/resume,
 * blocked users counted and skipped later, and a purchase's key overtaking a big broadcast.
 */
describe('console: broadcasts', function () {
  this.timeout(180_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  const admin = (method: string, path: string, body?: unknown) =>
    api.call(method, path, { token: ADMIN_TOKEN, body });
  const received = (tg: number, text: string) =>
    sys.telegram.sentTo(tg).filter((c) => String(c.params.text ?? c.params.caption) === text).length;

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem();
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys);
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  it('counts recipients in a dry run, sends once each, pauses and resumes, counts and later skips blocked users', async () => {
    const from = 5_100_000;
    await insertUsers(sys, from, 120, 'de');
    const blocked = [from + 3, from + 50, from + 99];
    for (const id of blocked) sys.telegram.blockUser(id);
    const audience = { segment: 'all', language: 'de' };
    const dry = await admin('POST', '/api/v1/admin/broadcasts', { text: 'x', audience, dry_run: true });
    assert.equal(dry.status, 200);
    assert.equal(dry.body.recipients, 120);
    assert.equal(dry.body.broadcast_id, null);

    const text = '<b>Winter sale</b> 20% off';
    const buttons = [[{ text: 'Open', url: 'https://vpn.example/sale' }]];
    const res = await admin('POST', '/api/v1/admin/broadcasts', { text, buttons, audience });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.recipients, 120);
    const id = res.body.broadcast_id;
    assert.equal(res.body.workflow_id, `broadcast-${id}`);

    await until(
      async () => (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body.sent >= 10,
      '10 sent',
    );
    const paused = await admin('POST', `/api/v1/admin/broadcasts/${id}/pause`);
    assert.equal(paused.status, 200);
    await until(
      async () => (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body.state === 'paused',
      'paused',
    );
    // In-flight sends finish; then nothing moves while paused.
    await new Promise((r) => setTimeout(r, 2_500));
    const during = (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body;
    await new Promise((r) => setTimeout(r, 1_500));
    const later = (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body;
    assert.equal(later.sent, during.sent, 'nothing sent while paused');
    assert.ok(later.pending > 0, 'work left for after the pause');

    assert.equal((await admin('POST', `/api/v1/admin/broadcasts/${id}/resume`)).status, 200);
    const done = await until(
      async () => {
        const p = (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body;
        return p.state === 'completed' && p;
      },
      'completed',
      60_000,
    );
    assert.deepEqual(
      {
        total: done.total,
        sent: done.sent,
        blocked: done.blocked,
        failed: done.failed,
        pending: done.pending,
      },
      { total: 120, sent: 117, blocked: 3, failed: 0, pending: 0 },
    );
    for (let tg = from; tg < from + 120; tg++)
      assert.equal(received(tg, text), blocked.includes(tg) ? 0 : 1, `user ${tg} got it once`);
    const first = sys.telegram.sentTo(from).find((c) => c.params.text === text)!;
    assert.equal(first.params.parse_mode, 'HTML');
    assert.match(JSON.stringify(first.params.reply_markup), /vpn\.example\/sale/);

    // The 403s marked those users blocked: a later broadcast does not even try them.
    const again = await admin('POST', '/api/v1/admin/broadcasts', {
      text: 'second',
      audience,
      dry_run: true,
    });
    assert.equal(again.body.recipients, 117);
    const audit = (await admin('GET', `/api/v1/admin/audit?target=broadcast:${id}`)).body.entries;
    assert.deepEqual(
      audit.map((e: { action: string }) => e.action),
      ['broadcast.resume', 'broadcast.pause', 'broadcast.create'],
    );
  });

  it('cancel stops a broadcast; a finished one refuses controls with 409', async () => {
    const from = 5_200_000;
    await insertUsers(sys, from, 200, 'fr');
    const res = await admin('POST', '/api/v1/admin/broadcasts', {
      text: 'cancel me',
      audience: { segment: 'all', language: 'fr' },
    });
    const id = res.body.broadcast_id;
    await until(async () => (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body.sent >= 5, '5 sent');
    await admin('POST', `/api/v1/admin/broadcasts/${id}/cancel`);
    const p = await until(async () => {
      const b = (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body;
      return b.state === 'canceled' && b;
    }, 'canceled');
    assert.ok(p.sent < 200 && p.pending > 0, JSON.stringify(p));
    assert.equal((await admin('POST', `/api/v1/admin/broadcasts/${id}/resume`)).status, 409);
  });

  it("a purchase during a 10,000-recipient broadcast: its key overtakes the broadcast's backlog", async () => {
    const from = 5_300_000;
    await insertUsers(sys, from, 10_000, 'es');
    const res = await admin('POST', '/api/v1/admin/broadcasts', {
      text: 'big one',
      audience: { segment: 'all', language: 'es' },
    });
    assert.equal(res.body.recipients, 10_000);
    const id = res.body.broadcast_id;
    // The queue's budget is busy with the broadcast.
    await until(async () => (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body.sent >= 30, 'busy');

    const buyer = 5_400_001;
    await sys.createUser(buyer);
    const { handle, paymentId } = await sys.buy(buyer, 'month-1');
    const [p] = await sys.orm.em
      .getConnection()
      .execute(`select provider_payment_id, amount, currency from payments where id = ?`, [paymentId]);
    sys.yookassa.pay(p.provider_payment_id);
    const paidAt = Date.now();
    const sentBefore: number | undefined = (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body.sent;
    await handle.signal(paymentNoticeSignal, {
      providerPaymentId: p.provider_payment_id,
      status: 'succeeded',
      amount: p.amount,
      currency: p.currency,
    });
    const key = await sys.telegram.waitFor(
      (c) =>
        Number(c.params.chat_id) === buyer && /vless:\/\//.test(String(c.params.text ?? c.params.caption)),
      30_000,
    );
    // When the purchase handed the key to the telegram queue (its `notify` activity was scheduled).
    const history = await handle.fetchHistory();
    const scheduled = history.events?.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notify',
    );
    const queuedAt =
      Number(scheduled?.eventTime?.seconds) * 1000 + Math.round((scheduled?.eventTime?.nanos ?? 0) / 1e6);
    const overtaken = sys.telegram
      .calls('sendMessage')
      .filter((c) => c.params.text === 'big one' && c.at > queuedAt && c.at < key.at).length;
    const backlog = sentBefore === undefined ? 10_000 : 10_000 - sentBefore;
    // Keys go first (own queue and budget): a key queued behind the broadcast would have waited for its whole
    // backlog (thousands of sends); it waits for at most a few, whatever the machine's speed. The latency
    // itself is a figure, printed here and measured in `npm run bench`, never asserted.
    console.log(
      `      key during a broadcast: ${key.at - paidAt} ms from payment, ${key.at - queuedAt} ms on the telegram queue, ` +
        `${overtaken} broadcast sends meanwhile, backlog ${backlog}`,
    );
    assert.ok(
      overtaken < backlog / 10,
      `the key waited behind the broadcast: ${overtaken} of ${backlog} went first`,
    );
    const p2 = (await admin('GET', `/api/v1/admin/broadcasts/${id}`)).body;
    assert.equal(p2.state, 'running', 'the broadcast was still running');
    await admin('POST', `/api/v1/admin/broadcasts/${id}/cancel`);
  });
});
