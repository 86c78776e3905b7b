import assert from 'node:assert/strict';
import { startApiOnSystem, ADMIN_TOKEN, type ApiHarness } from '../../infra/local/api-harness';
import { type NodeDriver, NodeUnreachableError } from '../../infra/nodes';
import type { PurchaseResult } from '../../workflows/purchase';
import { type PurchaseStatus, purchaseStatusQuery } from '../../workflows/purchase-messages';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

// Telegram ids 958_000_000–958_000_099 (this file only).
const TG = 958_000_001;

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The node's AddClient fails (unreachable) while `down` is true; the real driver otherwise. */
function switchableNode() {
  const state = { down: true, calls: 0 };
  return {
    state,
    wrap: (real: NodeDriver): NodeDriver =>
      Object.assign(Object.create(real), {
        addClient: async (c: Parameters<NodeDriver['addClient']>[0]) => {
          state.calls++;
          if (state.down) throw new NodeUnreachableError('connect ECONNREFUSED', 'node');
          return real.addClient(c);
        },
      }),
  };
}

describe('console: moving a stuck purchase from the admin API (retry the step, skip to refund)', function () {
  this.timeout(240_000);
  const node = switchableNode();
  // A long node wait: without an operator these purchases would keep trying for 30 minutes.
  const sys = new PurchaseSystem({ wrapDriver: node.wrap, nodeWaitLimitMs: 30 * 60_000 });
  let api: ApiHarness;
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('one-hour', 3600);
    api = await startApiOnSystem(sys);
  });
  after(async () => {
    await api?.close();
    await sys.stop();
  });

  const admin = (path: string, body: Record<string, unknown> = {}) =>
    api.call('POST', path, { token: ADMIN_TOKEN, body });
  const auditOf = async (paymentId: string) =>
    (
      await sys.orm.em
        .getConnection()
        .execute(`select action, result, detail from admin_actions where target = ? order by id`, [
          `payment:${paymentId}`,
        ])
    ).map((r) => `${r.action}:${r.result}`);

  async function paidAndStuck(tg: number) {
    await sys.createUser(tg);
    const { link, handle, paymentId } = await sys.buy(tg, 'one-hour');
    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    await until(async () => {
      const s = (await handle.query(purchaseStatusQuery)) as PurchaseStatus;
      return s.stage === 'PROVISIONING' && node.state.calls > 0 ? s : undefined;
    }, 'the purchase to be stuck placing its client');
    return { handle, paymentId, providerId: link.providerPaymentId! };
  }

  it('skip to refund: the paid purchase refunds itself once; a payment refund beside it is refused', async () => {
    node.state.down = true;
    const { handle, paymentId, providerId } = await paidAndStuck(TG);

    const beside = await admin(`/api/v1/admin/payments/${paymentId}/refund`, { reason: 'user asked' });
    assert.deepEqual(
      [beside.status, beside.body.error],
      [409, 'purchase_in_progress'],
      JSON.stringify(beside.body),
    );
    assert.equal(sys.yookassa.refunds().filter((r) => r.payment_id === providerId).length, 0);

    const skipped = await admin(`/api/v1/admin/purchases/${paymentId}/refund`, {
      reason: 'node gone, user waiting',
    });
    assert.ok([200, 202].includes(skipped.status), JSON.stringify(skipped.body));
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'refunded');

    const refunds = sys.yookassa.refunds().filter((r) => r.payment_id === providerId);
    assert.equal(refunds.length, 1, 'one refund at YooKassa');
    assert.equal(refunds[0].amount.value, '10.00', 'the whole amount paid');
    const { payments, subscriptions } = await rowsFor(sys, TG);
    assert.equal(payments[0].status, 'refunded');
    assert.equal(subscriptions.length, 0, 'no access for a refunded payment');
    const texts = sys.telegram.sentTo(TG).map((m) => String(m.params.text ?? m.params.caption ?? ''));
    assert.ok(
      texts.some((t) => /refund/i.test(t)),
      `the user is told: ${texts.join(' | ')}`,
    );

    const again = await admin(`/api/v1/admin/purchases/${paymentId}/refund`, { reason: 'twice' });
    assert.deepEqual([again.status, again.body.error], [409, 'purchase_closed']);
    assert.deepEqual(await auditOf(paymentId), [
      'payment.refund:refused',
      'purchase.refund:ok',
      'purchase.refund:refused',
    ]);
  });

  it('retry the step: the pending AddClient runs again at once; a purchase with nothing pending is refused', async () => {
    node.state.down = true;
    const tg = TG + 1;
    const { handle, paymentId } = await paidAndStuck(tg);
    const pendingAttempt = async () => {
      const raw = await sys.client.workflowService.describeWorkflowExecution({
        namespace: 'default',
        execution: { workflowId: handle.workflowId },
      });
      return raw.pendingActivities?.[0];
    };
    await until(
      async () => ((await pendingAttempt())?.attempt ?? 0) >= 2 || undefined,
      'a retried AddClient',
    );

    node.state.down = false;
    const retried = await admin(`/api/v1/admin/purchases/${paymentId}/retry-step`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.stage, 'PROVISIONING');
    assert.deepEqual(
      retried.body.reset.map((a: { activity_type: string }) => a.activity_type),
      ['addClient'],
    );
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');
    assert.equal((await rowsFor(sys, tg)).subscriptions.length, 1);

    const idle = await admin(`/api/v1/admin/purchases/${paymentId}/retry-step`);
    assert.deepEqual([idle.status, idle.body.error], [409, 'purchase_closed']);
    assert.deepEqual(await auditOf(paymentId), ['purchase.retry_step:ok', 'purchase.retry_step:refused']);
  });
});
