import assert from 'node:assert/strict';
import type { PaymentNotice } from '../../workflows/purchase-messages';
import { paymentNoticeSignal, purchaseStatusQuery } from '../../workflows/purchase-messages';
import type { PurchaseResult } from '../../workflows/purchase';
import { PurchaseSystem } from '../support/system';

const TG = 700_001;

/** What the webhook handler does: re-read the payment at the provider and signal what it says. */
async function deliverWebhook(sys: PurchaseSystem, paymentId: string, providerPaymentId: string) {
  const p = sys.yookassa.payment(providerPaymentId);
  const notice: PaymentNotice = {
    providerPaymentId: p.id,
    status: p.status,
    amount: p.amount.value,
    currency: p.amount.currency,
    cancellationReason: p.cancellation_details?.reason ?? null,
  };
  await sys.client.workflow.getHandle(`purchase-${paymentId}`).signal(paymentNoticeSignal, notice);
}

async function subscriptionRow(sys: PurchaseSystem, telegramId: number) {
  const rows = await sys.orm.em.getConnection().execute(
    `select s.* from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ? order by s.created_at`,
    [telegramId],
  );
  return rows;
}

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
    await deliverWebhook(sys, paymentId, link.providerPaymentId!);
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');

    const [sub] = await subscriptionRow(sys, TG);
    assert.equal(sub.status, 'active');
    assert.deepEqual(await sys.nodeClients(), [sub.id], 'exactly one client, named by the subscription id');
    const [payment] = await sys.orm.em.getConnection().execute(`select * from payments where id = ?`, [paymentId]);
    assert.equal(payment.status, 'succeeded');
    assert.equal(payment.subscription_id, sub.id);

    await sys.telegram.waitFor((c) => c.method === 'sendMessage' && /has ended/.test(String(c.params.text)), 30_000);
    const texts = sys.telegram.sentTo(TG).map((c) => `${c.method}:${String(c.params.text ?? c.params.caption ?? '')}`);
    const order = ['active until', 'QR', 'ends in', 'ended'].map((needle) => texts.findIndex((t) => t.includes(needle)));
    assert.ok(order.every((i) => i >= 0), `all messages sent: ${JSON.stringify(texts)}`);
    assert.deepEqual([...order].sort((a, b) => a - b), order, `in order: ${JSON.stringify(texts)}`);
    assert.equal(texts.filter((t) => t.includes('ends in')).length, 1, 'one reminder');
    assert.match(texts[order[0]], /vless:\/\//);

    const [after] = await subscriptionRow(sys, TG);
    assert.equal(after.status, 'expired');
    assert.deepEqual(await sys.nodeClients(), [], 'client removed from the node');
  });
});
