import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { type PurchaseResult, purchaseWorkflow } from '../../workflows/purchase';
import {
  type PaymentNotice,
  type PurchaseInput,
  paymentLinkUpdate,
  paymentNoticeSignal,
  purchaseStatusQuery,
  purchaseWorkflowId,
} from '../../workflows/purchase-messages';
import { FakeShop } from '../support/fake-shop';
import { DAY, type UnitWorkers, sleeping, withWorkers } from '../support/time-skipping';
import { Failure } from '../../workflows/failures';

// Every branch of one purchase, on the real workflow code with time skipping: what the user is told, whether
// money is kept, granted or refunded, and what the operator sees (stage, alerts).

const MINUTE = 60_000;
const TARIFF_DAYS = 30;

function purchase(over: Partial<PurchaseInput> = {}): PurchaseInput {
  return {
    paymentId: randomUUID(),
    userId: randomUUID(),
    telegramId: '700100',
    language: 'en',
    provider: 'yookassa',
    tariff: {
      id: 1,
      name: 'Month',
      price: '199.00',
      currency: 'RUB',
      durationSeconds: TARIFF_DAYS * 86_400,
      starPrice: 100,
      location: null,
    },
    paymentTimeoutMs: 20 * MINUTE, // PAYMENT_TIMEOUT (shorter than the default hour: fewer polls to replay)
    remindBeforeMs: [DAY],
    nodeWaitLimitMs: 30 * MINUTE,
    ...over,
  };
}

type Handle = WorkflowHandle<typeof purchaseWorkflow>;

async function start(w: UnitWorkers, input: PurchaseInput): Promise<Handle> {
  const handle = await w.env.client.workflow.start(purchaseWorkflow, {
    taskQueue: w.taskQueue,
    workflowId: purchaseWorkflowId(input.paymentId),
    args: [input],
  });
  await sleeping(handle);
  assert.equal((await handle.query(purchaseStatusQuery)).stage, 'AWAITING_PAYMENT');
  return handle;
}

/** What the API does on a create: start the purchase and wait for its payment link (or the refusal). */
async function askForLink(shop: FakeShop, input: PurchaseInput) {
  return withWorkers(shop.activities(), async (w) => {
    const handle = await w.env.client.workflow.start(purchaseWorkflow, {
      taskQueue: w.taskQueue,
      workflowId: purchaseWorkflowId(input.paymentId),
      args: [input],
    });
    const linkError = await handle.executeUpdate(paymentLinkUpdate).then(
      () => undefined,
      (err) => err,
    );
    return { result: await handle.result(), linkError };
  });
}

/** What the API does on a webhook: re-read the provider, signal what it says. */
async function webhook(handle: Handle, shop: FakeShop, input: PurchaseInput): Promise<void> {
  const notice: PaymentNotice = {
    providerPaymentId: input.provider === 'stars' ? input.paymentId : `yk-${input.paymentId}`,
    status: shop.provider.status,
    amount: '199.00',
    currency: 'RUB',
    cancellationReason: shop.provider.cancellationReason,
    telegramChargeId: input.provider === 'stars' ? 'charge-1' : null,
  };
  await handle.signal(paymentNoticeSignal, notice);
}

describe('purchase workflow (unit, time-skipping)', function () {
  this.timeout(60_000);

  describe('waiting for the payment', () => {
    it('paid (webhook): provisions one client, activates, tells the user once, keeps the money', async () => {
      const shop = new FakeShop();
      const input = purchase();
      const result = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        shop.provider.status = 'succeeded';
        await webhook(handle, shop, input);
        const r = await handle.result();
        assert.equal((await handle.query(purchaseStatusQuery)).stage, 'COMPLETED');
        return r;
      });
      const j = shop.journal;
      assert.equal(result.outcome, 'granted');
      assert.deepEqual(
        j.names().filter((n) => n !== 'getPaymentState'),
        [
          'createPayment',
          'recordPaymentSucceeded',
          'extendActiveSubscription',
          'selectNode',
          'addClient',
          'activateSubscription',
          'scheduleLifetime',
          'notify',
          'observeKeyDelivered',
          // A first payment offers the referrer's reward (none here: the user came without a referral).
          'offerReferralReward',
        ],
      );
      assert.deepEqual(j.notifications(), ['activated']);
      assert.equal(
        j.first('addClient').args.email,
        result.subscriptionId,
        'the client is named by the subscription',
      );
      assert.equal(j.count('refundPayment'), 0);
    });

    it('lost webhook: a poll finds the payment, and access follows within two minutes', async () => {
      const shop = new FakeShop();
      const input = purchase();
      const { result, paidAt } = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        await w.env.sleep(15 * MINUTE); // the user pays late in the window; no webhook ever arrives
        shop.provider.status = 'succeeded';
        const paidAt = await w.env.currentTimeMs();
        return { result: await handle.result(), paidAt };
      });
      const j = shop.journal;
      assert.equal(result.outcome, 'granted');
      assert.deepEqual(j.notifications(), ['activated']);
      const activatedAt = j.first('activateSubscription').at;
      assert.ok(
        activatedAt - paidAt <= 2 * MINUTE,
        `activated ${(activatedAt - paidAt) / 1000}s after paying`,
      );
      const polls = j.named('getPaymentState').map((c) => c.at);
      const gaps = polls.slice(1).map((t, i) => t - polls[i]);
      assert.ok(
        gaps.every((g) => g <= 2 * MINUTE + 5_000),
        `polls never more than 2 min apart: ${gaps}`,
      );
      assert.ok(gaps[0] < gaps[gaps.length - 1], 'polling backs off');
    });

    it('canceled at the provider: the user hears why, nothing is provisioned or refunded', async () => {
      const shop = new FakeShop();
      const input = purchase();
      const result = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        shop.provider = { status: 'canceled', cancellationReason: 'insufficient_funds', cancelable: true };
        await webhook(handle, shop, input);
        const r = await handle.result();
        assert.equal((await handle.query(purchaseStatusQuery)).stage, 'CANCELED');
        return r;
      });
      const j = shop.journal;
      assert.equal(result.outcome, 'canceled');
      assert.deepEqual(j.notifications(), ['payment_failed']);
      assert.equal(j.first('notify').args.reason, 'insufficient_funds');
      assert.equal(j.first('recordPaymentCanceled').args.reason, 'insufficient_funds');
      assert.equal(j.count('addClient') + j.count('refundPayment') + j.count('recordPaymentSucceeded'), 0);
    });

    it('a stale "canceled" webhook for a payment the provider says succeeded still grants access', async () => {
      const shop = new FakeShop();
      const input = purchase();
      const result = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        shop.provider.status = 'canceled';
        await webhook(handle, shop, input);
        shop.provider.status = 'succeeded'; // the re-read at the provider tells the truth
        return handle.result();
      });
      assert.equal(result.outcome, 'granted');
      assert.deepEqual(shop.journal.notifications(), ['activated']);
    });

    it('duplicate webhooks and a late cancel after success grant exactly once', async () => {
      const shop = new FakeShop();
      const input = purchase();
      const result = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        shop.provider.status = 'succeeded';
        await webhook(handle, shop, input);
        await webhook(handle, shop, input);
        shop.provider.status = 'canceled';
        await webhook(handle, shop, input);
        return handle.result();
      });
      assert.equal(result.outcome, 'granted');
      assert.equal(shop.journal.count('activateSubscription'), 1);
      assert.equal(shop.journal.count('recordPaymentSucceeded'), 1);
      assert.deepEqual(shop.journal.notifications(), ['activated']);
    });

    it('Stars: granted on the successful_payment signal, and the provider is never polled', async () => {
      const shop = new FakeShop();
      const input = purchase({ provider: 'stars' });
      const result = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        await w.env.sleep(10 * MINUTE);
        shop.provider.status = 'succeeded';
        await webhook(handle, shop, input);
        return handle.result();
      });
      assert.equal(result.outcome, 'granted');
      assert.equal(shop.journal.count('getPaymentState'), 0);
      const paid = shop.journal.first('recordPaymentSucceeded').args.notice as PaymentNotice;
      assert.equal(paid.telegramChargeId, 'charge-1', 'the charge id is kept for a refund');
    });

    it('the provider is down when the purchase starts: no payment, the API caller gets a clear error', async () => {
      const shop = new FakeShop();
      shop.createPaymentFails = true;
      const input = purchase();
      const { result, linkError } = await askForLink(shop, input);
      assert.equal(result.outcome, 'not_created');
      assert.equal(shop.journal.first('recordPaymentCanceled').args.reason, 'provider_unavailable');
      assert.equal(linkError?.cause?.type, Failure.PaymentProviderUnavailable);
      assert.deepEqual(shop.journal.notifications(), []);
    });
    it('the balance does not cover the price: the API caller hears "insufficient balance", not an outage', async () => {
      const shop = new FakeShop();
      shop.createPaymentFailsWith = Failure.InsufficientBalance;
      const input = purchase({ provider: 'balance' });
      const { result, linkError } = await askForLink(shop, input);
      assert.equal(result.outcome, 'not_created');
      assert.equal(linkError?.cause?.type, Failure.InsufficientBalance);
      assert.deepEqual(shop.journal.notifications(), []);
    });
  });

  describe('the payment deadline', () => {
    it('nobody pays: canceled at the provider at PAYMENT_TIMEOUT, the user is told it expired', async () => {
      const shop = new FakeShop();
      const input = purchase();
      const { result, startedAt } = await withWorkers(shop.activities(), async (w) => {
        const startedAt = await w.env.currentTimeMs();
        const handle = await start(w, input);
        const r = await handle.result();
        assert.equal((await handle.query(purchaseStatusQuery)).stage, 'EXPIRED');
        return { result: r, startedAt };
      });
      const j = shop.journal;
      assert.equal(result.outcome, 'expired');
      assert.deepEqual(j.notifications(), ['payment_expired']);
      const canceledAt = j.first('cancelOrGetFinalState').at;
      assert.ok(canceledAt - startedAt >= 20 * MINUTE, 'not before the deadline');
      assert.ok(canceledAt - startedAt < 21 * MINUTE, 'at the deadline');
      assert.equal(j.count('recordPaymentExpired'), 1);
      assert.equal(j.count('selectNode') + j.count('refundPayment'), 0);
    });

    it('paid in the last second: the cancel at the deadline finds it succeeded, and access is granted', async () => {
      const shop = new FakeShop();
      const base = shop.activities();
      const cancelOrGetFinalState = base.purchases.cancelOrGetFinalState!;
      base.purchases.cancelOrGetFinalState = async (input) => {
        shop.provider.status = 'succeeded'; // between the last poll and the cancel
        return cancelOrGetFinalState(input);
      };
      const result = await withWorkers(base, async (w) => (await start(w, purchase())).result());
      assert.equal(result.outcome, 'granted');
      assert.deepEqual(shop.journal.notifications(), ['activated']);
      assert.equal(shop.journal.count('recordPaymentExpired'), 0);
    });

    it('late payment: the provider keeps it open, the user pays half an hour late and still gets access', async () => {
      const shop = new FakeShop();
      shop.provider.cancelable = false;
      const input = purchase();
      const { result, paidAt } = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        await w.env.sleep(50 * MINUTE); // half an hour past the deadline
        shop.provider.status = 'succeeded'; // no webhook: only the watch can find it
        const paidAt = await w.env.currentTimeMs();
        return { result: await handle.result(), paidAt };
      });
      const j = shop.journal;
      assert.equal(result.outcome, 'granted');
      assert.deepEqual(j.notifications(), ['payment_expired', 'activated']);
      assert.ok(j.first('activateSubscription').at - paidAt <= 2 * MINUTE);
      assert.equal(j.count('refundPayment'), 0);
    });

    it('kept open and then closed by the provider: stays expired, nothing granted, nothing to refund', async () => {
      const shop = new FakeShop();
      shop.provider.cancelable = false;
      const result = await withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, purchase());
        await w.env.sleep(40 * MINUTE);
        shop.provider.status = 'canceled'; // YooKassa closes an unpaid payment itself
        return handle.result();
      });
      assert.equal(result.outcome, 'expired');
      assert.deepEqual(shop.journal.notifications(), ['payment_expired']);
      assert.equal(shop.journal.count('activateSubscription') + shop.journal.count('refundPayment'), 0);
    });
  });

  describe('provisioning', () => {
    async function paid(shop: FakeShop, input = purchase()): Promise<PurchaseResult> {
      return withWorkers(shop.activities(), async (w) => {
        const handle = await start(w, input);
        shop.provider.status = 'succeeded';
        await webhook(handle, shop, input);
        return handle.result();
      });
    }

    it('AddClient times out twice: retried on the same node, granted, no alert', async () => {
      const shop = new FakeShop();
      shop.addClientFails = { 'node-a': 2 };
      const result = await paid(shop);
      assert.equal(result.outcome, 'granted');
      assert.deepEqual(
        shop.journal.named('addClient').map((c) => c.args.nodeId),
        ['node-a', 'node-a', 'node-a'],
      );
      assert.equal(shop.journal.count('raiseOpsAlert'), 0);
    });

    it('a node refuses AddClient: ops are alerted, the client goes on another node', async () => {
      const shop = new FakeShop();
      shop.nodes = ['node-a', 'node-b'];
      shop.addClientFails = { 'node-a': 'permanent' };
      const result = await paid(shop);
      const j = shop.journal;
      assert.equal(result.outcome, 'granted');
      assert.deepEqual(
        j.named('addClient').map((c) => c.args.nodeId),
        ['node-a', 'node-b'],
      );
      assert.equal(j.first('activateSubscription').args.nodeId, 'node-b');
      assert.deepEqual(
        j.named('raiseOpsAlert').map((c) => c.args.kind),
        ['add_client_failed'],
      );
      assert.equal(j.count('refundPayment') + j.count('removeClient'), 0);
      assert.deepEqual(j.notifications(), ['activated']);
    });

    it('every node refuses for NODE_WAIT_LIMIT: the payment is refunded once, the user is told', async () => {
      const shop = new FakeShop();
      shop.addClientFails = { 'node-a': 'permanent' };
      const input = purchase();
      const result = await paid(shop, input);
      const j = shop.journal;
      assert.equal(result.outcome, 'refunded');
      assert.deepEqual(
        j.named('refundPayment').map((c) => c.args.paymentId),
        [input.paymentId],
      );
      assert.equal(j.count('activateSubscription'), 0);
      assert.deepEqual(j.notifications(), ['refunded']);
      const waited = j.first('refundPayment').at - j.first('recordPaymentSucceeded').at;
      assert.ok(
        waited >= 30 * MINUTE - 5 * MINUTE,
        `tried for about NODE_WAIT_LIMIT (${waited / MINUTE} min)`,
      );
    });

    it('no node at all: alerts with backoff, then a refund after NODE_WAIT_LIMIT', async () => {
      const shop = new FakeShop();
      shop.nodes = [];
      const result = await paid(shop);
      const j = shop.journal;
      assert.equal(result.outcome, 'refunded');
      const alerts = j.named('raiseOpsAlert');
      assert.ok(alerts.length >= 3, `alerted ${alerts.length} times`);
      assert.ok(alerts.every((a) => a.args.kind === 'no_node_available'));
      const gaps = alerts.slice(1).map((a, i) => a.at - alerts[i].at);
      assert.ok(gaps[gaps.length - 1] > gaps[0], `backoff between alerts: ${gaps}`);
      assert.equal(j.count('refundPayment'), 1);
      assert.equal(j.count('addClient'), 0);
      assert.deepEqual(j.notifications(), ['refunded']);
      const waited = j.first('refundPayment').at - j.first('recordPaymentSucceeded').at;
      assert.ok(waited >= 20 * MINUTE && waited <= 31 * MINUTE, `waited ${waited / MINUTE} min`);
    });

    it('no node for a while, then one comes up: granted, no refund', async () => {
      const shop = new FakeShop();
      shop.nodes = [];
      const base = shop.activities();
      const raiseOpsAlert = base.purchases.raiseOpsAlert!;
      base.purchases.raiseOpsAlert = async (args) => {
        await raiseOpsAlert(args);
        if (shop.journal.count('raiseOpsAlert') === 3) shop.nodes = ['node-late'];
      };
      const input = purchase();
      const result = await withWorkers(base, async (w) => {
        const handle = await start(w, input);
        shop.provider.status = 'succeeded';
        await webhook(handle, shop, input);
        return handle.result();
      });
      assert.equal(result.outcome, 'granted');
      assert.equal(shop.journal.first('addClient').args.nodeId, 'node-late');
      assert.equal(shop.journal.count('refundPayment'), 0);
    });

    it('saving the grant fails for good: the added client is removed first, then the money goes back', async () => {
      const shop = new FakeShop();
      shop.activateFails = true;
      const input = purchase();
      const result = await paid(shop, input);
      const j = shop.journal;
      assert.equal(result.outcome, 'refunded');
      const tail = j
        .names()
        .filter((n) =>
          ['addClient', 'activateSubscription', 'removeClient', 'refundPayment', 'notify'].includes(n),
        );
      assert.deepEqual(tail, [
        'addClient',
        'activateSubscription',
        'removeClient',
        'refundPayment',
        'notify',
      ]);
      assert.equal(j.first('removeClient').args.email, j.first('addClient').args.email);
      assert.deepEqual(j.notifications(), ['refunded']);
    });
  });

  describe('renewal', () => {
    it('paying while active extends the same access by the paid time: no new client, the lifetime is told', async () => {
      const shop = new FakeShop();
      const input = purchase();
      const result = await withWorkers(shop.activities(), async (w) => {
        const now = await w.env.currentTimeMs();
        shop.subscriptions.set('sub-1', { nodeId: 'node-a', expiresAt: now + 10 * DAY, status: 'active' });
        shop.activeSubscriptionId = 'sub-1';
        const handle = await start(w, input);
        shop.provider.status = 'succeeded';
        await webhook(handle, shop, input);
        return { r: await handle.result(), oldEnd: now + 10 * DAY };
      });
      const j = shop.journal;
      assert.equal(result.r.outcome, 'extended');
      assert.equal(result.r.subscriptionId, 'sub-1');
      assert.equal(
        Date.parse(result.r.expiresAt!),
        result.oldEnd + TARIFF_DAYS * DAY,
        'old end + the paid time',
      );
      assert.equal(j.count('selectNode') + j.count('addClient') + j.count('activateSubscription'), 0);
      assert.deepEqual(j.first('scheduleLifetime').args, { subscriptionId: 'sub-1' });
      assert.deepEqual(j.notifications(), ['extended']);
    });

    it('another purchase activated first: ours extends it and removes its own fresh client', async () => {
      const shop = new FakeShop();
      const base = shop.activities();
      base.purchases.activateSubscription = async (args) => {
        shop.journal.record('activateSubscription', args);
        return {
          kind: 'extended',
          subscriptionId: 'sub-first',
          expiresAt: new Date(Date.now() + 60 * DAY).toISOString(),
        };
      };
      const input = purchase();
      const result = await withWorkers(base, async (w) => {
        const handle = await start(w, input);
        shop.provider.status = 'succeeded';
        await webhook(handle, shop, input);
        return handle.result();
      });
      const j = shop.journal;
      assert.equal(result.outcome, 'extended');
      assert.equal(result.subscriptionId, 'sub-first');
      assert.deepEqual(j.first('removeClient').args, {
        nodeId: 'node-a',
        email: j.first('addClient').args.email,
      });
      assert.deepEqual(j.first('scheduleLifetime').args, { subscriptionId: 'sub-first' });
      assert.deepEqual(j.notifications(), ['extended']);
      assert.equal(j.count('refundPayment'), 0);
    });
  });

  it('a user who blocked the bot still gets access (only the message is lost)', async () => {
    const shop = new FakeShop();
    shop.blockedUser = true;
    const input = purchase();
    const result = await withWorkers(shop.activities(), async (w) => {
      const handle = await start(w, input);
      shop.provider.status = 'succeeded';
      await webhook(handle, shop, input);
      return handle.result();
    });
    assert.equal(result.outcome, 'granted');
    assert.equal(shop.journal.count('notify'), 1, 'a blocked chat is not retried');
    assert.equal(shop.journal.count('refundPayment'), 0);
  });
});
