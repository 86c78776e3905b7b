import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { purchaseWorkflow } from '../../workflows/purchase';
import {
  type PurchaseInput,
  paymentNoticeSignal,
  purchaseWorkflowId,
  subscriptionWorkflowId,
} from '../../workflows/purchase-messages';
import {
  type SubscriptionInput,
  expiryChangedSignal,
  subscriptionStatusQuery,
  subscriptionWorkflow,
} from '../../workflows/subscription';
import { FakeShop } from '../support/fake-shop';
import { type Call, DAY, HOUR, type UnitWorkers, sleeping, withWorkers } from '../support/time-skipping';

// The life of one access on the real workflow code, with months passing in milliseconds: reminders at the right
// offsets and only once, revoke at the end and never before, renewals moving both.

type Handle = WorkflowHandleWithFirstExecutionRunId<typeof subscriptionWorkflow>;

/** An access in the fake database plus its lifetime workflow, as the purchase would leave them. */
async function lifetime(
  w: UnitWorkers,
  shop: FakeShop,
  {
    days,
    remindBeforeMs,
    alreadyReminded = [],
  }: { days: number; remindBeforeMs: number[]; alreadyReminded?: number[] },
  startDelayMs?: number,
): Promise<{ handle: Handle; end: number; input: SubscriptionInput }> {
  const subscriptionId = randomUUID();
  const end = (await w.env.currentTimeMs()) + days * DAY;
  shop.subscriptions.set(subscriptionId, { nodeId: 'node-a', expiresAt: end, status: 'active' });
  const input: SubscriptionInput = {
    subscriptionId,
    telegramId: '700200',
    language: 'en',
    nodeId: 'node-a',
    expiresAt: new Date(end).toISOString(),
    remindBeforeMs,
    reminded: alreadyReminded.map((before) => `${end}:${before}`), // as a continued run receives them
  };
  const handle = await w.env.client.workflow.start(subscriptionWorkflow, {
    taskQueue: w.taskQueue,
    workflowId: subscriptionWorkflowId(subscriptionId),
    args: [input],
    startDelay: startDelayMs,
  });
  return { handle, end, input };
}

const reminders = (shop: FakeShop): Call[] =>
  shop.journal.named('notify').filter((c) => c.args.kind === 'reminder');

describe('subscription lifetime (unit, time-skipping)', function () {
  this.timeout(60_000);

  it('a month-long access: one reminder a day before, revoked at the end, in that order', async () => {
    const shop = new FakeShop();
    const { state, end } = await withWorkers(shop.activities(), async (w) => {
      const { handle, end } = await lifetime(w, shop, { days: 30, remindBeforeMs: [DAY] });
      return { state: await handle.result(), end };
    });
    const j = shop.journal;
    assert.equal(state.stage, 'EXPIRED');
    assert.deepEqual(j.names(), ['notify', 'beginRevoke', 'removeClient', 'finishRevoke', 'notify']);
    assert.deepEqual(j.notifications(), ['reminder', 'expired']);
    const [reminder] = reminders(shop);
    assert.ok(reminder.at >= end - DAY && reminder.at < end - DAY + HOUR, 'reminded a day before the end');
    assert.equal(reminder.args.expiresAt, new Date(end).toISOString(), 'the reminder names the end date');
    assert.ok(j.first('removeClient').at >= end, 'never revoked before the end');
    assert.deepEqual(j.first('removeClient').args, {
      nodeId: 'node-a',
      email: j.first('beginRevoke').args.subscriptionId,
    });
  });

  it('REMIND_BEFORE=72h,24h: two reminders, at both offsets, furthest first', async () => {
    const shop = new FakeShop();
    const end = await withWorkers(shop.activities(), async (w) => {
      const { handle, end } = await lifetime(w, shop, { days: 30, remindBeforeMs: [DAY, 3 * DAY] });
      await handle.result();
      return end;
    });
    const sent = reminders(shop).map((c) => Math.round((end - c.at) / HOUR));
    assert.deepEqual(sent, [72, 24], 'hours before the end at which each reminder went out');
    assert.deepEqual(shop.journal.notifications(), ['reminder', 'reminder', 'expired']);
  });

  it('a renewal moves both timers: no reminder or revoke at the old end, both at the new one', async () => {
    const shop = new FakeShop();
    const { oldEnd, newEnd } = await withWorkers(shop.activities(), async (w) => {
      const { handle, end, input } = await lifetime(w, shop, { days: 10, remindBeforeMs: [DAY] });
      await sleeping(handle);
      await w.env.sleep(5 * DAY);
      const newEnd = end + 30 * DAY; // what extendActiveSubscription wrote, then signalled by scheduleLifetime
      shop.subscriptions.get(input.subscriptionId)!.expiresAt = newEnd;
      await handle.signal(expiryChangedSignal, { expiresAt: new Date(newEnd).toISOString() });
      await sleeping(handle);
      assert.equal((await handle.query(subscriptionStatusQuery)).expiresAt, new Date(newEnd).toISOString());
      await handle.result();
      return { oldEnd: end, newEnd };
    });
    const j = shop.journal;
    const [reminder, ...more] = reminders(shop);
    assert.equal(more.length, 0, 'one reminder only');
    assert.equal(reminder.args.expiresAt, new Date(newEnd).toISOString(), 'for the new end');
    assert.ok(reminder.at >= newEnd - DAY);
    assert.equal(j.count('beginRevoke'), 1, 'nothing happened at the old end');
    assert.ok(j.first('beginRevoke').at >= newEnd && j.first('removeClient').at > oldEnd);
  });

  it('the database knows a later end than the workflow (signal lost): not revoked, revoked at the real end', async () => {
    const shop = new FakeShop();
    const { realEnd } = await withWorkers(shop.activities(), async (w) => {
      const { handle, end, input } = await lifetime(w, shop, { days: 3, remindBeforeMs: [DAY] });
      const realEnd = end + 7 * DAY;
      shop.subscriptions.get(input.subscriptionId)!.expiresAt = realEnd; // renewed, but no signal arrives
      await handle.result();
      return { realEnd };
    });
    const j = shop.journal;
    assert.deepEqual(
      j.named('beginRevoke').map((c) => c.at >= realEnd),
      [false, true],
      'asked at the old end (refused: not due), revoked at the real end',
    );
    assert.equal(j.count('removeClient'), 1);
    assert.ok(j.first('removeClient').at >= realEnd);
    assert.deepEqual(
      reminders(shop).map((c) => c.args.expiresAt),
      [new Date(realEnd - 7 * DAY).toISOString(), new Date(realEnd).toISOString()],
      'a reminder for each end the user was shown',
    );
  });

  it('an access already gone (refunded, closed by hand): nothing to remove, no "expired" message', async () => {
    const shop = new FakeShop();
    const state = await withWorkers(shop.activities(), async (w) => {
      const { handle, input } = await lifetime(w, shop, { days: 2, remindBeforeMs: [DAY] });
      shop.subscriptions.delete(input.subscriptionId);
      return handle.result();
    });
    assert.equal(state.stage, 'CLOSED');
    assert.equal(shop.journal.count('removeClient'), 0);
    assert.deepEqual(shop.journal.notifications(), ['reminder']);
  });

  it('a node that refuses the removal: ops alerted each time, retried until gone, then the user is told', async () => {
    const shop = new FakeShop();
    shop.removeClientRefusals = { 'node-a': 2 };
    const state = await withWorkers(shop.activities(), async (w) => {
      const { handle } = await lifetime(w, shop, { days: 1, remindBeforeMs: [] });
      return handle.result();
    });
    const j = shop.journal;
    assert.equal(state.stage, 'EXPIRED');
    assert.deepEqual(j.names(), [
      'beginRevoke',
      'removeClient',
      'raiseOpsAlert',
      'removeClient',
      'raiseOpsAlert',
      'removeClient',
      'finishRevoke',
      'notify',
    ]);
    assert.ok(j.named('raiseOpsAlert').every((c) => c.args.kind === 'revoke_failed'));
  });

  it('a user who blocked the bot still loses access on time', async () => {
    const shop = new FakeShop();
    shop.blockedUser = true;
    const { state, end } = await withWorkers(shop.activities(), async (w) => {
      const { handle, end } = await lifetime(w, shop, { days: 7, remindBeforeMs: [DAY] });
      return { state: await handle.result(), end };
    });
    assert.equal(state.stage, 'EXPIRED');
    assert.ok(shop.journal.first('removeClient').at >= end);
    assert.equal(shop.journal.count('finishRevoke'), 1);
  });

  describe('workers down for a while (the workflow runs late)', () => {
    it('back between the two reminders: the missed 72h one is replaced by the 24h one, sent once', async () => {
      const shop = new FakeShop();
      const end = await withWorkers(shop.activities(), async (w) => {
        // Down from the start until 12 h before the end.
        const { handle, end } = await lifetime(
          w,
          shop,
          { days: 9, remindBeforeMs: [3 * DAY, DAY] },
          9 * DAY - 12 * HOUR,
        );
        await handle.result();
        return end;
      });
      const sent = reminders(shop);
      assert.equal(sent.length, 1, 'one reminder');
      assert.ok(end - sent[0].at <= 12 * HOUR, 'sent when the worker came back');
      assert.ok(shop.journal.first('removeClient').at >= end);
    });

    it('back after the end: no reminder for an access already over, revoked at once', async () => {
      const shop = new FakeShop();
      const end = await withWorkers(shop.activities(), async (w) => {
        const { handle, end } = await lifetime(w, shop, { days: 2, remindBeforeMs: [DAY] }, 3 * DAY);
        await handle.result();
        return end;
      });
      assert.deepEqual(shop.journal.notifications(), ['expired']);
      const removedAt = shop.journal.first('removeClient').at;
      assert.ok(removedAt >= end && removedAt < end + DAY + HOUR, 'revoked as soon as the workflow ran');
    });
  });

  describe('continue-as-new', () => {
    it('a reminder already sent in an earlier run (carried in the input) is not sent again', async () => {
      const shop = new FakeShop();
      await withWorkers(shop.activities(), async (w) => {
        const { handle } = await lifetime(w, shop, {
          days: 10,
          remindBeforeMs: [3 * DAY, DAY],
          alreadyReminded: [3 * DAY],
        });
        await handle.result();
      });
      const sent = reminders(shop);
      assert.equal(sent.length, 1, 'only the 24h reminder');
      assert.ok(shop.journal.first('removeClient').at - sent[0].at <= DAY + HOUR, 'the 24h one');
    });

    it('renewed many times: the history starts afresh, and the access still ends exactly once, on time', async () => {
      const shop = new FakeShop();
      const { finalEnd, firstRunId, lastRunId } = await withWorkers(shop.activities(), async (w) => {
        const { handle, end, input } = await lifetime(w, shop, { days: 5, remindBeforeMs: [DAY] });
        const firstRunId = handle.firstExecutionRunId;
        let next = end;
        for (let i = 0; i < 45; i++) {
          await sleeping(handle);
          next += DAY;
          shop.subscriptions.get(input.subscriptionId)!.expiresAt = next;
          await handle.signal(expiryChangedSignal, { expiresAt: new Date(next).toISOString() });
        }
        await sleeping(handle);
        const lastRunId = (await handle.describe()).runId;
        await w.env.client.workflow.getHandle(handle.workflowId).result();
        return { finalEnd: next, firstRunId, lastRunId };
      });
      assert.notEqual(lastRunId, firstRunId, 'continued as new');
      const sent = reminders(shop);
      assert.equal(sent.length, 1, 'one reminder, for the final end');
      assert.equal(sent[0].args.expiresAt, new Date(finalEnd).toISOString());
      assert.equal(shop.journal.count('removeClient'), 1);
      assert.ok(shop.journal.first('removeClient').at >= finalEnd);
    });
  });

  it('from payment to revoke: the purchase starts the lifetime, which reminds and revokes a month later', async () => {
    const shop = new FakeShop();
    const input: PurchaseInput = {
      paymentId: randomUUID(),
      userId: randomUUID(),
      telegramId: '700300',
      language: 'en',
      provider: 'stars',
      tariff: {
        id: 2,
        name: 'Month',
        price: '199.00',
        currency: 'RUB',
        durationSeconds: 30 * 86_400,
        starPrice: 100,
      },
      paymentTimeoutMs: HOUR,
      remindBeforeMs: [DAY],
      nodeWaitLimitMs: 30 * 60_000,
    };
    const { granted, lifetimeEnd } = await withWorkers(shop.activities(), async (w) => {
      shop.lifetimes = { client: w.env.client, remindBeforeMs: [DAY] };
      const purchase = await w.env.client.workflow.start(purchaseWorkflow, {
        taskQueue: w.taskQueue,
        workflowId: purchaseWorkflowId(input.paymentId),
        args: [input],
      });
      await sleeping(purchase);
      shop.provider.status = 'succeeded';
      await purchase.signal(paymentNoticeSignal, {
        providerPaymentId: input.paymentId,
        status: 'succeeded',
        amount: '100.00',
        currency: 'XTR',
        telegramChargeId: 'charge-9',
      });
      const granted = await purchase.result();
      const state = await w.env.client.workflow
        .getHandle(subscriptionWorkflowId(granted.subscriptionId!))
        .result();
      return { granted, lifetimeEnd: Date.parse(state.expiresAt) };
    });
    assert.equal(granted.outcome, 'granted');
    assert.equal(lifetimeEnd, Date.parse(granted.expiresAt!), 'the lifetime ends when the purchase said');
    assert.deepEqual(shop.journal.notifications(), ['activated', 'reminder', 'expired']);
    const removed = shop.journal.first('removeClient');
    assert.equal(removed.args.email, granted.subscriptionId);
    assert.ok(removed.at >= lifetimeEnd);
    assert.ok(
      lifetimeEnd - shop.journal.first('activateSubscription').at >= 30 * DAY - HOUR,
      'a month later',
    );
  });
});
