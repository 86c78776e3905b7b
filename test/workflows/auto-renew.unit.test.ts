import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { subscriptionWorkflowId } from '../../workflows/purchase-messages';
import { type SubscriptionInput, subscriptionWorkflow } from '../../workflows/subscription';
import { attemptTimes } from '../../workflows/subscription/auto-renew';
import { FakeShop } from '../support/fake-shop';
import { DAY, HOUR, withWorkers } from '../support/time-skipping';

// The auto-renew branch of the lifetime on the real workflow code, a month passing in milliseconds: when the
// attempts are made, that the user is told once, and that a failed period still ends on time.

describe('auto-renew branch of the lifetime (unit, time-skipping)', function () {
  this.timeout(60_000);

  it('3 attempts over the last 24 h (T-24h, T-16.8h, T-2.4h), told once, revoked at the end', async () => {
    const shop = new FakeShop();
    shop.autoRenewPlan = () => ({ kind: 'no_method' });
    const subscriptionId = randomUUID();
    const { end, state } = await withWorkers(shop.activities(), async (w) => {
      const end = (await w.env.currentTimeMs()) + 30 * DAY;
      shop.subscriptions.set(subscriptionId, { nodeId: 'node-a', expiresAt: end, status: 'active' });
      const input: SubscriptionInput = {
        subscriptionId,
        telegramId: '700300',
        language: 'en',
        nodeId: 'node-a',
        expiresAt: new Date(end).toISOString(),
        remindBeforeMs: [],
        autoRenewBeforeMs: DAY,
        autoRenewRetries: 3,
      };
      const handle = await w.env.client.workflow.start(subscriptionWorkflow, {
        taskQueue: w.taskQueue,
        workflowId: subscriptionWorkflowId(subscriptionId),
        args: [input],
      });
      return { end, state: await handle.result() };
    });
    const plans = shop.journal.named('planAutoRenew');
    assert.deepEqual(
      plans.map((c) => Math.round(((end - c.at) / HOUR) * 10) / 10),
      [24, 16.8, 2.4],
      'hours before the end of each attempt',
    );
    assert.deepEqual(
      plans.map((c) => c.args.attempt),
      [0, 1, 2],
    );
    assert.ok(plans.every((c) => c.args.periodEnd === new Date(end).toISOString()));
    assert.deepEqual(
      shop.journal.notifications(),
      ['auto_renew_failed', 'expired'],
      'told once, then the end',
    );
    assert.equal(state.stage, 'EXPIRED');
    assert.ok(shop.journal.first('removeClient').at >= end, 'revoked at the end, not before');
  });

  it('switched off: one look at the window, no charge, no message but the end', async () => {
    const shop = new FakeShop();
    shop.autoRenewPlan = () => ({ kind: 'skip', why: 'off' });
    const subscriptionId = randomUUID();
    await withWorkers(shop.activities(), async (w) => {
      const end = (await w.env.currentTimeMs()) + 2 * DAY;
      shop.subscriptions.set(subscriptionId, { nodeId: 'node-a', expiresAt: end, status: 'active' });
      const handle = await w.env.client.workflow.start(subscriptionWorkflow, {
        taskQueue: w.taskQueue,
        workflowId: subscriptionWorkflowId(subscriptionId),
        args: [
          {
            subscriptionId,
            telegramId: '700301',
            language: 'en',
            nodeId: 'node-a',
            expiresAt: new Date(end).toISOString(),
            remindBeforeMs: [],
            autoRenewBeforeMs: DAY,
            autoRenewRetries: 3,
          },
        ],
      });
      await handle.result();
    });
    assert.equal(shop.journal.count('planAutoRenew'), 1);
    assert.equal(shop.journal.count('finishAutoRenewAttempt'), 0);
    assert.deepEqual(shop.journal.notifications(), ['expired']);
  });

  it('attemptTimes: doubling gaps, the last at nine tenths of the window', () => {
    assert.deepEqual(attemptTimes(0, 100, 3), [0, 30, 90]);
    assert.deepEqual(attemptTimes(0, 100, 1), [0]);
    assert.deepEqual(attemptTimes(50, 50, 3), [50], 'no window left: one look');
  });
});
