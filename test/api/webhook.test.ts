import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createYooKassaClient, type YooKassaClient } from '../../infra/yookassa/client';
import { startYooKassaEmulator, type YooKassaEmulator } from '../../infra/yookassa/emulator';
import { purchaseWorkflowId } from '../../workflows/purchase-messages';
import {
  insertPayment,
  insertTariff,
  insertUser,
  parkPurchase,
  signalsOf,
  uniqueTelegramId,
} from './fixtures';
import { type ApiHarness, metricValue, startApi } from './harness';

const WEBHOOK = '/api/v1/payments/webhook';

describe('api: YooKassa webhook', () => {
  let yk: YooKassaEmulator;
  let client: YooKassaClient;
  let api: ApiHarness;
  let ids: { userId: string; tariffId: number };

  before(async () => {
    yk = await startYooKassaEmulator({ shopId: '4242', secretKey: 'test_secret' });
    client = createYooKassaClient({
      apiUrl: yk.url,
      shopId: '4242',
      secretKey: 'test_secret',
      returnUrl: 'https://vpn.example/back',
      timeoutMs: 2000,
    });
    api = await startApi({ yookassa: client });
    const user = await insertUser(api.orm, uniqueTelegramId());
    const tariff = await insertTariff(api.orm);
    ids = { userId: user.id, tariffId: tariff.id };
  });
  after(async () => {
    await api.close();
    await yk.close();
  });

  /** A payment at the emulator, our row for it, and its parked purchase workflow. */
  async function purchase(amount = '199.00') {
    const p = await client.createPayment({
      idempotenceKey: randomUUID(),
      amount,
      currency: 'RUB',
      description: 'VPN',
      metadata: {},
    });
    const row = await insertPayment(api.orm, { ...ids, providerPaymentId: p.id, amount: '199.00' });
    const handle = await parkPurchase(api.temporal, { paymentId: row.id });
    return { providerId: p.id, paymentId: row.id as string, handle };
  }
  const notify = (id: string, event = 'payment.succeeded', status = 'succeeded') =>
    api.call('POST', WEBHOOK, {
      token: null,
      body: {
        type: 'notification',
        event,
        object: { id, status, amount: { value: '1.00', currency: 'RUB' } },
      },
    });

  it('signals the workflow with the state re-read from YooKassa', async () => {
    const { providerId, paymentId, handle } = await purchase();
    yk.decline(providerId, 'insufficient_funds');
    const res = await notify(providerId, 'payment.succeeded', 'succeeded'); // the body lies; the API says canceled
    assert.deepEqual([res.status, res.body], [200, { status: 'ok' }]);
    const signals = await signalsOf(api.temporal, purchaseWorkflowId(paymentId));
    assert.equal(signals.length, 1);
    assert.deepEqual(signals[0], {
      name: 'paymentNotice',
      args: [
        {
          providerPaymentId: providerId,
          status: 'canceled',
          amount: '199.00',
          currency: 'RUB',
          cancellationReason: 'insufficient_funds',
        },
      ],
    });
    await handle.terminate();
  });

  it('does not signal when the body says succeeded but YooKassa says pending', async () => {
    const { providerId, paymentId, handle } = await purchase();
    const res = await notify(providerId);
    assert.equal(res.status, 200);
    assert.deepEqual(await signalsOf(api.temporal, purchaseWorkflowId(paymentId)), []);
    await handle.terminate();
  });

  it('signals a succeeded payment once per notification; duplicates are harmless for the workflow', async () => {
    const { providerId, paymentId, handle } = await purchase();
    yk.pay(providerId);
    for (let i = 0; i < 3; i++) assert.equal((await notify(providerId)).status, 200);
    const signals = await signalsOf(api.temporal, purchaseWorkflowId(paymentId));
    assert.equal(signals.length, 3);
    assert.ok(signals.every((s) => (s.args[0] as { status: string }).status === 'succeeded'));
    await handle.terminate();
  });

  it('refuses a forged source with 403 and a malformed body with 400', async () => {
    const strict = await startApi({ yookassa: client, env: { YOOKASSA_WEBHOOK_ALLOW: '185.71.76.0/27' } });
    try {
      const forged = await strict.call('POST', WEBHOOK, {
        token: null,
        body: { type: 'notification', event: 'payment.succeeded', object: { id: 'x' } },
        headers: { 'x-forwarded-for': '185.71.76.1' },
      });
      assert.deepEqual([forged.status, forged.body.error], [403, 'forbidden']);
      assert.ok(
        strict.logs.some((l) => String(l.msg).includes('not allowlisted')),
        'logged',
      );
      assert.equal(
        metricValue(
          await strict.metrics.registry.metrics(),
          'webhook_rejections_total{reason="forbidden_source"}',
        ),
        1,
      );
    } finally {
      await strict.close();
    }
    for (const body of [
      {},
      { type: 'notification', event: 'payment.succeeded' },
      { type: 'other', event: 'x', object: { id: 'a' } },
    ]) {
      const res = await api.call('POST', WEBHOOK, { token: null, body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await api.call('POST', WEBHOOK, { token: null, raw: '{nope' })).status, 400);
  });

  it('answers 200 for ids unknown to YooKassa or to us, with no signal', async () => {
    assert.equal((await notify('2f0000000-not-at-yookassa')).status, 200);
    const stray = await client.createPayment({
      idempotenceKey: randomUUID(),
      amount: '5.00',
      currency: 'RUB',
      description: 'x',
      metadata: {},
    });
    yk.pay(stray.id);
    assert.equal((await notify(stray.id)).status, 200);
    const text = await api.metrics.registry.metrics();
    assert.equal(metricValue(text, 'webhook_rejections_total{reason="unknown_payment"}'), 1);
    assert.equal(metricValue(text, 'webhook_rejections_total{reason="unknown_at_provider"}'), 1);
  });

  it('does not signal when the paid amount differs from ours: error log and metric', async () => {
    const { providerId, paymentId, handle } = await purchase('1.00');
    yk.pay(providerId);
    const res = await notify(providerId);
    assert.equal(res.status, 200);
    assert.deepEqual(await signalsOf(api.temporal, purchaseWorkflowId(paymentId)), []);
    assert.equal(
      metricValue(await api.metrics.registry.metrics(), 'webhook_rejections_total{reason="amount_mismatch"}'),
      1,
    );
    assert.ok(api.logs.some((l) => l.level === 50 && String(l.msg).includes('amount differs')));
    await handle.terminate();
  });

  it('answers 200 when the purchase is over, and raises the money alarm if it was paid meanwhile', async () => {
    const { providerId, handle } = await purchase();
    await handle.terminate();
    yk.pay(providerId);
    assert.equal((await notify(providerId)).status, 200);
    assert.equal(
      metricValue(await api.metrics.registry.metrics(), 'payments_orphaned_total{provider="yookassa"}'),
      1,
    );
  });

  it('answers 503 while YooKassa cannot be reached, so it redelivers', async () => {
    const { providerId, handle } = await purchase();
    yk.faults.failNext500 = 1;
    const res = await notify(providerId);
    assert.deepEqual([res.status, res.body.error], [503, 'payment_provider_unavailable']);
    await handle.terminate();
  });

  it('a redelivery of an outcome already booked is answered 200 without asking YooKassa (even while it is down), and signals nothing', async () => {
    const paid = await purchase();
    const declined = await purchase();
    const sql = (q: string, params: unknown[]) => api.orm.em.getConnection().execute(q, params);
    // As the purchases booked them after their (re-read) notices.
    await sql(`update payments set status = 'succeeded' where id = ?`, [paid.paymentId]);
    await sql(`update payments set status = 'canceled' where id = ?`, [declined.paymentId]);
    yk.faults.failNext500 = 100;
    try {
      assert.equal((await notify(paid.providerId)).status, 200);
      assert.equal((await notify(declined.providerId, 'payment.canceled', 'canceled')).status, 200);
      // Another outcome than the one booked still goes to YooKassa first (here: down, so 503 and a redelivery).
      const other = await notify(declined.providerId, 'payment.succeeded', 'succeeded');
      assert.deepEqual([other.status, other.body.error], [503, 'payment_provider_unavailable']);
    } finally {
      yk.faults.failNext500 = 0;
    }
    assert.deepEqual(await signalsOf(api.temporal, purchaseWorkflowId(paid.paymentId)), []);
    assert.deepEqual(await signalsOf(api.temporal, purchaseWorkflowId(declined.paymentId)), []);
    await paid.handle.terminate();
    await declined.handle.terminate();
  });
});
