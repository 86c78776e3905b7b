import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { buildPurchasesQuery } from '../../api/stuck-purchases';
import { parkPurchase, uniqueTelegramId } from './fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApi } from './harness';

const MIN = 60_000;

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('visibility did not catch up');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('api: stuck purchases from Temporal visibility', () => {
  let api: ApiHarness;
  const handles: WorkflowHandle[] = [];
  const tg = String(uniqueTelegramId());
  const ids = {
    oldAwaiting: randomUUID(),
    newAwaiting: randomUUID(),
    oldProvisioning: randomUUID(),
    otherUser: randomUUID(),
  };

  before(async () => {
    api = await startApi();
    const now = Date.now();
    handles.push(
      await parkPurchase(api.temporal, {
        paymentId: ids.oldAwaiting,
        telegramId: tg,
        stage: 'AWAITING_PAYMENT',
        enteredAt: new Date(now - 45 * MIN),
      }),
      await parkPurchase(api.temporal, {
        paymentId: ids.newAwaiting,
        telegramId: tg,
        stage: 'AWAITING_PAYMENT',
        enteredAt: new Date(now - 5 * MIN),
      }),
      await parkPurchase(api.temporal, {
        paymentId: ids.oldProvisioning,
        telegramId: tg,
        stage: 'PROVISIONING',
        enteredAt: new Date(now - 3 * 60 * MIN),
      }),
      await parkPurchase(api.temporal, {
        paymentId: ids.otherUser,
        telegramId: '42',
        stage: 'AWAITING_PAYMENT',
        enteredAt: new Date(now - 60 * MIN),
      }),
    );
    await eventually(async () => {
      const listed = await api.call('GET', `/api/v1/admin/purchases?telegram_id=${tg}`, {
        token: ADMIN_TOKEN,
      });
      return listed.body.purchases?.length === 3;
    });
  });
  after(async () => {
    for (const h of handles) await h.terminate().catch(() => undefined);
    await api.close();
  });

  const list = async (query: string) => {
    const res = await api.call('GET', `/api/v1/admin/purchases?${query}`, { token: ADMIN_TOKEN });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.purchases as Array<Record<string, string | number>>;
  };

  it('lists purchases stuck in a stage for longer than a duration, with time in stage and a UI link', async () => {
    const stuck = await list(`stage=AWAITING_PAYMENT&older_than=30m&telegram_id=${tg}`);
    assert.deepEqual(
      stuck.map((p) => p.payment_id),
      [ids.oldAwaiting],
    );
    const [item] = stuck;
    assert.equal(item.workflow_id, `purchase-${ids.oldAwaiting}`);
    assert.equal(item.telegram_id, tg);
    assert.equal(item.stage, 'AWAITING_PAYMENT');
    assert.ok(
      Math.abs(Number(item.seconds_in_stage) - 45 * 60) < 60,
      `~45 min, got ${item.seconds_in_stage}`,
    );
    assert.equal(
      item.ui_url,
      `http://temporal-ui.test:8233/namespaces/default/workflows/purchase-${ids.oldAwaiting}`,
    );

    const anyStage = await list(`older_than=PT1H&telegram_id=${tg}`);
    assert.deepEqual(
      anyStage.map((p) => p.payment_id),
      [ids.oldProvisioning],
    );
    const byPayment = await list(`payment_id=${ids.otherUser}`);
    assert.deepEqual(
      byPayment.map((p) => p.telegram_id),
      ['42'],
    );
    const all = await list(`telegram_id=${tg}`);
    assert.deepEqual(
      all.map((p) => p.payment_id),
      [ids.oldProvisioning, ids.oldAwaiting, ids.newAwaiting],
      'longest in stage first',
    );
  });

  it('422s an unknown stage or an unreadable duration', async () => {
    for (const [query, field] of [
      ['stage=WAITING', 'stage'],
      ['older_than=soon', 'older_than'],
      ['payment_id=x', 'payment_id'],
    ]) {
      const res = await api.call('GET', `/api/v1/admin/purchases?${query}`, { token: ADMIN_TOKEN });
      assert.deepEqual([res.status, res.body.field], [422, field], query);
    }
  });

  it('builds the same query string operators paste into the Temporal UI', () => {
    const now = new Date('2026-11-22T12:00:00.000Z');
    assert.equal(
      buildPurchasesQuery({ stage: 'AWAITING_PAYMENT', olderThanMs: 30 * MIN, now }),
      'WorkflowType="purchaseWorkflow" AND ExecutionStatus="Running" AND PurchaseStage="AWAITING_PAYMENT" AND StageEnteredAt < "2026-11-22T11:30:00.000Z"',
    );
    assert.equal(
      buildPurchasesQuery({ telegramId: '123', includeClosed: true }),
      'WorkflowType="purchaseWorkflow" AND TelegramId="123"',
    );
  });
});
