import assert from 'node:assert/strict';
import { type NodeDriver, NodeRejectedError, NodeUnreachableError } from '../../infra/nodes';
import type { PurchaseResult } from '../../workflows/purchase';
import { paymentNoticeSignal } from '../../workflows/purchase-messages';
import { recordHistory } from '../support/histories';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

/** The real driver, with the first `failures` AddClient calls failing the way a flaky or broken node fails. */
function failingAddClient(failures: number, error: () => Error) {
  let calls = 0;
  return {
    calls: () => calls,
    wrap: (real: NodeDriver): NodeDriver =>
      Object.assign(Object.create(real), {
        addClient: async (c: Parameters<NodeDriver['addClient']>[0]) => {
          calls++;
          if (calls <= failures) throw error();
          return real.addClient(c);
        },
      }),
  };
}

async function payAndWait(
  sys: PurchaseSystem,
  tg: number,
): Promise<{ result: PurchaseResult; paymentId: string; providerId: string }> {
  await sys.createUser(tg);
  const { link, handle, paymentId } = await sys.buy(tg, 'one-hour');
  sys.yookassa.pay(link.providerPaymentId!);
  await signalProviderState(sys, paymentId, link.providerPaymentId!);
  const result: PurchaseResult = await handle.result();
  await recordHistory(sys.client, handle.workflowId, `purchase-node-${result.outcome}`);
  return { result, paymentId, providerId: link.providerPaymentId! };
}

describe('purchase workflow: a flaky node', function () {
  this.timeout(120_000);
  const flaky = failingAddClient(2, () => new NodeUnreachableError('connect ECONNREFUSED', 'node'));
  const sys = new PurchaseSystem({ wrapDriver: flaky.wrap });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('one-hour', 3600);
  });
  after(() => sys.stop());

  it('AddClient failing twice then succeeding leaves exactly one client and one active subscription', async () => {
    const { result } = await payAndWait(sys, 720_001);
    assert.equal(result.outcome, 'granted');
    assert.equal(flaky.calls(), 3);
    const { subscriptions } = await rowsFor(sys, 720_001);
    assert.equal(subscriptions.length, 1);
    assert.deepEqual(await sys.nodeClients(), [subscriptions[0].id]);
  });
});

describe('purchase workflow: a node that refuses for good', function () {
  this.timeout(120_000);
  const broken = failingAddClient(
    Number.POSITIVE_INFINITY,
    () => new NodeRejectedError('401 unauthorized', 'node', 401),
  );
  const sys = new PurchaseSystem({ wrapDriver: broken.wrap });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('one-hour', 3600);
  });
  after(() => sys.stop());

  it('refunds through the provider, records it, tells the user, and leaves nothing on any node', async () => {
    const tg = 720_002;
    const { result, paymentId, providerId } = await payAndWait(sys, tg);
    assert.equal(result.outcome, 'refunded');
    const refunds = sys.yookassa.refunds().filter((r) => r.payment_id === providerId);
    assert.equal(refunds.length, 1, 'one refund at the provider');
    assert.equal(refunds[0].amount.value, '10.00');
    const { payments, subscriptions, events } = await rowsFor(sys, tg);
    assert.equal(payments[0].status, 'refunded');
    assert.equal(subscriptions.length, 0, 'no access granted');
    assert.deepEqual(
      events.map((e) => e.type),
      ['refunded'],
    );
    assert.deepEqual(await sys.nodeClients(), []);
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === tg && /refund/i.test(String(c.params.text)),
      20_000,
    );
    assert.equal(paymentId, payments[0].id);
  });

  it('a Stars purchase is refunded through Telegram with its charge id', async () => {
    const tg = 720_004;
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'one-hour', 'stars');
    // The user pays the invoice in Telegram; the charge exists at Telegram from then on.
    sys.telegram.injectSuccessfulPayment({
      from: { id: tg, is_bot: false, first_name: 'Stars' },
      payload: paymentId,
      total_amount: 5,
      telegram_payment_charge_id: 'stars-charge-42',
    });
    await handle.signal(paymentNoticeSignal, {
      providerPaymentId: paymentId,
      status: 'succeeded',
      amount: '5.00',
      currency: 'XTR',
      telegramChargeId: 'stars-charge-42',
    });
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'refunded');
    const refunds = sys.telegram.calls('refundStarPayment');
    assert.equal(refunds.length, 1);
    assert.equal(Number(refunds[0].params.user_id), tg);
    assert.equal(refunds[0].params.telegram_payment_charge_id, 'stars-charge-42');
    const [payment] = (await rowsFor(sys, tg)).payments;
    assert.equal(payment.status, 'refunded');
    assert.equal(payment.telegram_payment_charge_id, 'stars-charge-42');
  });

  it('with no node at all, waits, alerts, then refunds', async () => {
    await sys.orm.em.getConnection().execute(`update vpn_nodes set status = 'down'`);
    const tg = 720_003;
    await sys.createUser(tg);
    const { link, handle, paymentId } = await sys.buy(tg, 'one-hour', 'yookassa', { nodeWaitLimitMs: 6_000 });
    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'refunded');
    await recordHistory(sys.client, handle.workflowId, 'purchase-no-node-refunded');
    assert.equal((await rowsFor(sys, tg)).payments[0].status, 'refunded');
  });
});
