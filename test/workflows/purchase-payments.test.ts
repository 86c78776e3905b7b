import assert from 'node:assert/strict';
import type { PurchaseResult } from '../../workflows/purchase';
import { type PaymentNotice, paymentNoticeSignal } from '../../workflows/purchase-messages';
import { recordHistory } from '../support/histories';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

describe('purchase workflow: payment notices', function () {
  this.timeout(120_000);
  const sys = new PurchaseSystem({ paymentTimeoutMs: 60_000 });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('one-hour', 3600);
  });
  after(() => sys.stop());

  it('a success delivered 5 times, interleaved with a stale cancel, grants access once', async () => {
    const tg = 710_001;
    await sys.createUser(tg);
    const { link, handle, paymentId } = await sys.buy(tg, 'one-hour');
    sys.yookassa.pay(link.providerPaymentId!);
    const stale: PaymentNotice = {
      providerPaymentId: link.providerPaymentId!,
      status: 'canceled',
      amount: '10.00',
      currency: 'RUB',
      cancellationReason: 'expired_on_confirmation',
    };
    // The stale cancel arrives first, then the success five times, some of them concurrently.
    await handle.signal(paymentNoticeSignal, stale);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    await Promise.all([1, 2, 3, 4].map(() => signalProviderState(sys, paymentId, link.providerPaymentId!)));
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');
    await recordHistory(sys.client, handle.workflowId, 'purchase-duplicate-signals');
    const { subscriptions, events, payments } = await rowsFor(sys, tg);
    assert.equal(subscriptions.length, 1);
    assert.equal(events.filter((e) => e.type === 'activated').length, 1);
    assert.equal(payments[0].status, 'succeeded');
    assert.deepEqual(await sys.nodeClients(), [subscriptions[0].id]);
  });

  it('with no webhook at all, polling the provider finds the payment and provisions', async () => {
    const tg = 710_002;
    await sys.createUser(tg);
    const { link, handle } = await sys.buy(tg, 'one-hour');
    sys.yookassa.pay(link.providerPaymentId!); // no signal: the webhook was lost
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');
    assert.equal((await rowsFor(sys, tg)).subscriptions[0].status, 'active');
  });

  it('YooKassa failing every poll for a while costs nothing: the paid purchase is still granted', async () => {
    const tg = 710_007;
    await sys.createUser(tg);
    const { link, handle } = await sys.buy(tg, 'one-hour');
    sys.yookassa.faults.rateLimitNext = 1_000; // every API call answers 429
    await new Promise((r) => setTimeout(r, 12_000)); // several polls fail, each after its own retries
    sys.yookassa.pay(link.providerPaymentId!); // no webhook: only polling can see it
    sys.yookassa.faults.rateLimitNext = 0;
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'granted');
    assert.equal((await rowsFor(sys, tg)).payments[0].status, 'succeeded');
  });

  it('a canceled payment tells the user the reason and touches no node', async () => {
    const tg = 710_003;
    await sys.createUser(tg);
    const clientsBefore = await sys.nodeClients();
    const { link, handle, paymentId } = await sys.buy(tg, 'one-hour');
    sys.yookassa.decline(link.providerPaymentId!, 'insufficient_funds');
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'canceled');
    await recordHistory(sys.client, handle.workflowId, 'purchase-canceled');
    const { subscriptions, payments } = await rowsFor(sys, tg);
    assert.equal(subscriptions.length, 0);
    assert.equal(payments[0].status, 'canceled');
    assert.equal(payments[0].cancellation_reason, 'insufficient_funds');
    assert.deepEqual(await sys.nodeClients(), clientsBefore, 'no node call');
    const [msg] = sys.telegram.sentTo(tg);
    assert.match(String(msg.params.text), /insufficient funds|not enough/i);
    assert.match(JSON.stringify(msg.params.reply_markup), new RegExp(`rt:${paymentId}`), 'a Retry button');
  });

  it('an unpaid payment expires at the deadline: the user is told, and the provider closes it', async () => {
    const tg = 710_004;
    await sys.createUser(tg);
    const { link, handle } = await sys.buy(tg, 'one-hour', 'yookassa', { paymentTimeoutMs: 3_000 });
    await sys.telegram.waitFor(
      (c) => c.method === 'sendMessage' && /ran out/.test(String(c.params.text)),
      20_000,
    );
    assert.equal((await rowsFor(sys, tg)).payments[0].status, 'expired');
    // YooKassa cannot cancel a pending one-stage payment; it closes it itself. The workflow watches until then.
    sys.yookassa.expire(link.providerPaymentId!);
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'expired');
    await recordHistory(sys.client, handle.workflowId, 'purchase-expired');
    assert.equal(sys.yookassa.payment(link.providerPaymentId!).status, 'canceled');
    assert.equal((await rowsFor(sys, tg)).subscriptions.length, 0);
  });

  it('paid after the deadline but before the provider closed it: access is granted, money is not lost', async () => {
    const tg = 710_006;
    await sys.createUser(tg);
    const { link, handle } = await sys.buy(tg, 'one-hour', 'yookassa', { paymentTimeoutMs: 2_000 });
    await sys.telegram.waitFor(
      (c) => /ran out/.test(String(c.params.text)) && Number(c.params.chat_id) === tg,
      20_000,
    );
    sys.yookassa.pay(link.providerPaymentId!);
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'granted');
    await recordHistory(sys.client, handle.workflowId, 'purchase-paid-after-deadline');
    assert.equal((await rowsFor(sys, tg)).payments[0].status, 'succeeded');
  });

  it('a payment made at the last second is provisioned, not cancelled', async () => {
    const tg = 710_005;
    await sys.createUser(tg);
    const { link, handle } = await sys.buy(tg, 'one-hour', 'yookassa', { paymentTimeoutMs: 2_500 });
    sys.yookassa.pay(link.providerPaymentId!); // paid, but neither webhook nor poll before the deadline
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'granted');
  });
});
