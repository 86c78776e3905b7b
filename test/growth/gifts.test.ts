import assert from 'node:assert/strict';
import { type ApiHarness, ADMIN_TOKEN, METRICS_TOKEN, metricValue, startApiOnSystem } from '../api/harness';
import { PurchaseSystem } from '../support/system';
import { activeAccess, buyAndPay, register, until } from './helpers';

const BUYER = 810_001;
const FRIEND = 810_002;
const RIVAL = 810_003;
const BOT = 'gift_test_bot';

/** The gift link the buyer got from the bot, and its code. */
async function giftLinkOf(sys: PurchaseSystem, telegramId: number): Promise<string> {
  const call = await sys.telegram.waitFor(
    (c) => Number(c.params.chat_id) === telegramId && /start=gift_/.test(String(c.params.text)),
    30_000,
  );
  const m = /https:\/\/t\.me\/gift_test_bot\?start=gift_([A-Za-z0-9_-]+)/.exec(String(call.params.text));
  assert.ok(m, `a gift link in ${call.params.text}`);
  return m[1];
}

describe('gifts: buy → another user claims → access; own claim refused; one winner; unclaimed → refunded', function () {
  this.timeout(180_000);
  const sys = new PurchaseSystem({ growth: { botUsername: BOT } });
  let api: ApiHarness;
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('gift-hour', 3_600, { price: '150.00' });
    api = await startApiOnSystem(sys, { BOT_USERNAME: BOT });
    for (const tg of [BUYER, FRIEND, RIVAL]) await register(api, tg);
  });
  after(async () => {
    await api?.close();
    await sys.stop();
  });

  let code: string;
  it('a paid gift gives the buyer a link with a 128-bit code, and no access', async () => {
    const { result, paymentId } = await buyAndPay(sys, api, BUYER, 'gift-hour', 'gift');
    assert.equal(result.outcome, 'gifted');
    code = await giftLinkOf(sys, BUYER);
    assert.ok(Buffer.from(code, 'base64url').length >= 16, 'at least 128 random bits');
    assert.equal(await activeAccess(sys, BUYER), undefined, 'the buyer did not get the access');
    const [gift] = await sys.orm.em
      .getConnection()
      .execute(
        `select status, claim_until > now() + interval '29 days' as month from gifts where payment_id = ?`,
        [paymentId],
      );
    assert.deepEqual(gift, { status: 'unclaimed', month: true }, 'claimable for GIFT_CLAIM_WINDOW (30d)');
  });

  it('the buyer cannot claim their own gift', async () => {
    const own = await api.call('POST', `/api/v1/gifts/${code}/claim`, { body: { telegram_id: BUYER } });
    assert.equal(own.status, 409);
    assert.equal(own.body.error, 'own_gift');
  });

  it('two users claiming at the same moment: exactly one gets the access, the other "already claimed"', async () => {
    const [a, b] = await Promise.all(
      [FRIEND, RIVAL].map((tg) =>
        api.call('POST', `/api/v1/gifts/${code}/claim`, { body: { telegram_id: tg } }),
      ),
    );
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 409], `${a.text} / ${b.text}`);
    const [winner, loser] = a.status === 200 ? [FRIEND, RIVAL] : [RIVAL, FRIEND];
    const won = a.status === 200 ? a : b;
    assert.equal((a.status === 409 ? a : b).body.error, 'gift_claimed');

    const access = await activeAccess(sys, winner);
    assert.equal(access.id, won.body.subscription_id);
    assert.equal(await activeAccess(sys, loser), undefined);
    const lengthMs = new Date(access.expires_at).getTime() - new Date(access.starts_at).getTime();
    assert.equal(lengthMs, 3_600_000, 'exactly the gifted tariff');
    assert.ok((await sys.nodeClients()).includes(access.id), 'the key is on the node');
    await sys.telegram.waitFor(
      (c) =>
        Number(c.params.chat_id) === winner &&
        /subscription is active/.test(String(c.params.text ?? c.params.caption)),
      30_000,
    );
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === BUYER && /gift has been claimed/.test(String(c.params.text)),
      30_000,
    );

    // The winner asking again gets the same access; the loser again "already claimed".
    const again = await api.call('POST', `/api/v1/gifts/${code}/claim`, { body: { telegram_id: winner } });
    assert.equal(again.status, 200);
    assert.equal(again.body.subscription_id, won.body.subscription_id);
    const late = await api.call('POST', `/api/v1/gifts/${code}/claim`, { body: { telegram_id: loser } });
    assert.equal(late.body.error, 'gift_claimed');

    const events = await sys.orm.em
      .getConnection()
      .execute(
        `select e.type from subscription_events e join gifts g on g.payment_id = e.payment_id where g.code = ?`,
        [code],
      );
    assert.deepEqual(
      events.map((e) => e.type),
      ['activated'],
      'the gift payment granted exactly once',
    );
  });

  it('unknown codes are 404, malformed ones 422', async () => {
    const unknown = await api.call('POST', `/api/v1/gifts/${'A'.repeat(22)}/claim`, {
      body: { telegram_id: FRIEND },
    });
    assert.equal(unknown.status, 404);
    const bad = await api.call('POST', '/api/v1/gifts/x!/claim', { body: { telegram_id: FRIEND } });
    assert.equal(bad.status, 422);
  });

  it('an unclaimed gift is refunded to the buyer at the end of the window; a late claim gets gift_expired', async () => {
    const shortApi = await startApiOnSystem(sys, { BOT_USERNAME: BOT, GIFT_CLAIM_WINDOW: '3s' });
    try {
      const before = sys.telegram.sentTo(BUYER).length;
      const { paymentId, providerPaymentId } = await buyAndPay(sys, shortApi, BUYER, 'gift-hour', 'gift');
      await until('the new gift link', async () => sys.telegram.sentTo(BUYER).length > before);
      const [gift] = await sys.orm.em
        .getConnection()
        .execute(`select code, code_hash from gifts where payment_id = ?`, [paymentId]);
      const workflow = sys.client.workflow.getHandle(`gift-${gift.code_hash}`);
      const final = await workflow.result();
      assert.equal(final.state, 'REFUNDED');
      const [payment] = await sys.orm.em
        .getConnection()
        .execute(`select status from payments where id = ?`, [paymentId]);
      assert.equal(payment.status, 'refunded');
      const refunds = sys.yookassa.refunds().filter((r) => r.payment_id === providerPaymentId);
      assert.equal(refunds.length, 1, 'refunded once at the provider');
      assert.equal(refunds[0].amount.value, '150.00');
      await sys.telegram.waitFor(
        (c) => Number(c.params.chat_id) === BUYER && /refund of/.test(String(c.params.text)),
        30_000,
      );

      const late = await shortApi.call('POST', `/api/v1/gifts/${gift.code}/claim`, {
        body: { telegram_id: FRIEND },
      });
      assert.equal(late.status, 410);
      assert.equal(late.body.error, 'gift_expired');

      // Findable in the Temporal UI by its search attribute.
      await until('the gift in visibility', async () => {
        for await (const w of sys.client.workflow.list({ query: `GiftState = 'REFUNDED'` }))
          if (w.workflowId === workflow.workflowId) return true;
        return false;
      });
    } finally {
      await shortApi.close();
    }
  });

  it('admin stats, the admin gift list and /metrics show the gift money', async () => {
    const stats = await api.call('GET', '/api/v1/admin/stats', { token: ADMIN_TOKEN });
    assert.equal(stats.status, 200, stats.text);
    assert.deepEqual(stats.body.gifts.claimed, [{ currency: 'RUB', amount: '150.00', gifts: 1 }]);
    assert.deepEqual(stats.body.gifts.refunded, [{ currency: 'RUB', amount: '150.00', gifts: 1 }]);
    const list = await api.call('GET', '/api/v1/admin/gifts', { token: ADMIN_TOKEN });
    assert.equal(list.body.gifts.length, 2);
    assert.ok(!list.text.includes(code), 'codes are never listed');
    const metrics = await api.call('GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(metricValue(metrics.text, 'gift_payments{state="claimed",currency="RUB"}'), 1);
    assert.equal(metricValue(metrics.text, 'gift_amount{state="refunded",currency="RUB"}'), 150);
  });

  it("the buyer's own list: each gift's fate, and the link only while it can be claimed", async () => {
    const open = await buyAndPay(sys, api, BUYER, 'gift-hour', 'gift');
    const [fresh] = await sys.orm.em
      .getConnection()
      .execute(`select code from gifts where payment_id = ?`, [open.paymentId]);
    const mine = await api.call('GET', `/api/v1/users/${BUYER}/gifts`);
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(
      mine.body.gifts.map((g: Record<string, unknown>) => [g.status, g.amount, g.start_parameter, g.link]),
      [
        ['unclaimed', '150.00', `gift_${fresh.code}`, `https://t.me/${BOT}?start=gift_${fresh.code}`],
        ['refunded', '150.00', null, null],
        ['claimed', '150.00', null, null],
      ],
      'newest first',
    );
    assert.ok(!mine.text.includes(code), 'a claimed code is not shown again');
    assert.ok(mine.body.gifts[2].claimed_at);
    assert.ok(mine.body.gifts[1].refunded_at);
    assert.deepEqual((await api.call('GET', `/api/v1/users/${FRIEND}/gifts`)).body, { gifts: [] });
    assert.equal((await api.call('GET', '/api/v1/users/999999991/gifts')).status, 404);
  });
});
