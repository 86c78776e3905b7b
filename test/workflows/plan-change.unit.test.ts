import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { AppliedUpgrade, UpgradePlan } from '../../activities/plan-change';
import { Failure } from '../../workflows/failures';
import { purchaseWorkflow } from '../../workflows/purchase';
import {
  type PurchaseInput,
  paymentNoticeSignal,
  purchaseStatusQuery,
  purchaseWorkflowId,
} from '../../workflows/purchase-messages';
import { FakeShop } from '../support/fake-shop';
import { sleeping, withWorkers } from '../support/time-skipping';

// The purchase's plan-change step (purpose `upgrade`, workflows/purchase/plan-change.ts) on the real workflow
// code with time skipping: the order of node calls in a location move, and the refund when the change went stale.

const SUB = 'sub-1';
const own = { email: SUB, uuid: randomUUID() };
const device = { email: `${SUB}.d1`, uuid: randomUUID() };

function upgrade(): PurchaseInput {
  return {
    paymentId: randomUUID(),
    userId: randomUUID(),
    telegramId: '700200',
    language: 'en',
    provider: 'yookassa',
    tariff: {
      id: 2,
      name: 'Germany',
      price: '199.00',
      currency: 'RUB',
      durationSeconds: 90 * 86_400,
      location: 'de',
    },
    paymentTimeoutMs: 20 * 60_000,
    remindBeforeMs: [86_400_000],
    nodeWaitLimitMs: 30 * 60_000,
    purpose: 'upgrade',
  };
}

/** The shop with the two plan-change activities; `commit` decides what commitUpgrade does. */
function shopWith(commit: () => AppliedUpgrade) {
  const shop = new FakeShop();
  shop.nodes = ['node-de'];
  const plan: UpgradePlan = {
    subscriptionId: SUB,
    nodeId: 'node-nl',
    move: true,
    clients: [own, device],
    applied: false,
  };
  const base = shop.activities();
  const activities = {
    ...base,
    purchases: {
      ...base.purchases,
      beginUpgrade: async (args: { paymentId: string }) => {
        shop.journal.record('beginUpgrade', args);
        return plan;
      },
      commitUpgrade: async (args: { paymentId: string; nodeId: string | null }) => {
        shop.journal.record('commitUpgrade', args);
        return commit();
      },
    },
  };
  return { shop, activities };
}

async function paid(
  activities: ReturnType<typeof shopWith>['activities'],
  shop: FakeShop,
  input: PurchaseInput,
) {
  return withWorkers(activities, async (w) => {
    const handle = await w.env.client.workflow.start(purchaseWorkflow, {
      taskQueue: w.taskQueue,
      workflowId: purchaseWorkflowId(input.paymentId),
      args: [input],
    });
    await sleeping(handle);
    shop.provider.status = 'succeeded';
    await handle.signal(paymentNoticeSignal, {
      providerPaymentId: `yk-${input.paymentId}`,
      status: 'succeeded',
      amount: '199.00',
      currency: 'RUB',
    });
    const result = await handle.result();
    return { result, stage: (await handle.query(purchaseStatusQuery)).stage };
  });
}

describe('purchase workflow: plan change step (unit, time-skipping)', function () {
  this.timeout(60_000);

  it('a move: the clients go to the new location first, then the change commits, then they leave the old node', async () => {
    const expiresAt = new Date(Date.now() + 90 * 86_400_000).toISOString();
    const { shop, activities } = shopWith(() => ({ subscriptionId: SUB, expiresAt, leftover: '0.00' }));
    const { result, stage } = await paid(activities, shop, upgrade());
    assert.deepEqual([result.outcome, stage], ['changed', 'COMPLETED']);
    const j = shop.journal;
    assert.deepEqual(
      j.names().filter((n) => n !== 'getPaymentState'),
      [
        'createPayment',
        'recordPaymentSucceeded',
        'beginUpgrade',
        'selectNode',
        'addClient',
        'addClient',
        'commitUpgrade',
        'scheduleLifetime',
        'notify',
        'removeClient',
        'removeClient',
      ],
      'no new access, no renewal: the running access changes',
    );
    assert.deepEqual(
      j.calls.filter((c) => c.name === 'addClient').map((c) => [c.args.nodeId, c.args.uuid]),
      [
        ['node-de', own.uuid],
        ['node-de', device.uuid],
      ],
      'the same UUIDs on the new node',
    );
    assert.deepEqual(j.first('commitUpgrade').args.nodeId, 'node-de');
    assert.equal(
      j.first('scheduleLifetime').args.endMovedBack,
      true,
      'the lifetime takes the new end as it is',
    );
    assert.deepEqual(
      j.calls.filter((c) => c.name === 'removeClient').map((c) => [c.args.nodeId, c.args.email]),
      [
        ['node-nl', own.email],
        ['node-nl', device.email],
      ],
    );
    assert.deepEqual(j.notifications(), ['extended']);
    assert.equal(j.count('refundPayment'), 0);
  });

  it('a change gone stale (renewed since the quote) is refunded and the clients placed for it are removed', async () => {
    const { shop, activities } = shopWith(() => {
      throw ApplicationFailure.nonRetryable('the access changed', Failure.PlanChangeStale);
    });
    const { result, stage } = await paid(activities, shop, upgrade());
    assert.deepEqual([result.outcome, stage], ['refunded', 'REFUNDED']);
    const j = shop.journal;
    assert.equal(j.count('commitUpgrade'), 1, 'not retried: stale is final');
    assert.equal(j.count('refundPayment'), 1);
    assert.deepEqual(
      j.calls.filter((c) => c.name === 'removeClient').map((c) => c.args.nodeId),
      ['node-de', 'node-de'],
      'only the new node is cleaned; the old one keeps the running access',
    );
    assert.equal(j.count('scheduleLifetime'), 0);
    assert.deepEqual(j.notifications(), ['refunded']);
  });
});
