import assert from 'node:assert/strict';
import { purchaseStatusQuery } from '../../workflows/purchase-messages';
import type { PurchaseResult } from '../../workflows/purchase';
import { recordHistory } from '../support/histories';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

const TG = 700_001;

describe('purchase workflow: happy path on real Temporal, PostgreSQL, Xray', function () {
  this.timeout(180_000);
  const sys = new PurchaseSystem({ remindBeforeMs: [4_000] });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
  });
  after(() => sys.stop());

  it('pays, provisions one client, activates, reminds, expires and revokes, in that order', async () => {
    await sys.createUser(TG);
    await sys.createTariff('eight-seconds', 8);
    const { link, handle, paymentId } = await sys.buy(TG, 'eight-seconds');
    assert.match(link.confirmationUrl ?? '', /^http/);
    assert.equal(link.amount, '10.00');
    assert.equal((await handle.query(purchaseStatusQuery)).stage, 'AWAITING_PAYMENT');

    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');
    await recordHistory(sys.client, handle.workflowId, 'purchase-granted');

    const [sub] = (await rowsFor(sys, TG)).subscriptions;
    assert.equal(sub.status, 'active');
    assert.deepEqual(await sys.nodeClients(), [sub.id], 'exactly one client, named by the subscription id');
    const [payment] = await sys.orm.em
      .getConnection()
      .execute(`select * from payments where id = ?`, [paymentId]);
    assert.equal(payment.status, 'succeeded');
    assert.equal(payment.subscription_id, sub.id);

    await sys.telegram.waitFor(
      (c) => c.method === 'sendMessage' && /has ended/.test(String(c.params.text)),
      30_000,
    );
    const texts = sys.telegram
      .sentTo(TG)
      .map((c) => `${c.method}:${String(c.params.text ?? c.params.caption ?? '')}`);
    const order = ['active until', 'QR', 'ends in', 'ended'].map((needle) =>
      texts.findIndex((t) => t.includes(needle)),
    );
    assert.ok(
      order.every((i) => i >= 0),
      `all messages sent: ${JSON.stringify(texts)}`,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      `in order: ${JSON.stringify(texts)}`,
    );
    assert.equal(texts.filter((t) => t.includes('ends in')).length, 1, 'one reminder');
    assert.match(texts[order[0]], /vless:\/\//);

    const [after] = (await rowsFor(sys, TG)).subscriptions;
    assert.equal(after.status, 'expired');
    assert.deepEqual(await sys.nodeClients(), [], 'client removed from the node');
    await sys.client.workflow.getHandle(`subscription-${sub.id}`).result();
    await recordHistory(sys.client, `subscription-${sub.id}`, 'subscription-expired');
  });
});
