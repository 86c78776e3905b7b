import assert from 'node:assert/strict';
import type { PurchaseResult } from '../../workflows/purchase';
import { recordHistory } from '../support/histories';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

const TG = 730_001;

async function payFor(sys: PurchaseSystem, tariff: string): Promise<PurchaseResult> {
  const { link, handle, paymentId } = await sys.buy(TG, tariff);
  sys.yookassa.pay(link.providerPaymentId!);
  await signalProviderState(sys, paymentId, link.providerPaymentId!);
  const result: PurchaseResult = await handle.result();
  await recordHistory(sys.client, handle.workflowId, `renewal-${result.outcome}`);
  return result;
}

describe('renewal', function () {
  this.timeout(120_000);
  const sys = new PurchaseSystem({ remindBeforeMs: [3_000] });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createUser(TG);
    await sys.createTariff('eight-seconds', 8);
  });
  after(() => sys.stop());

  it('extends the same access by exactly the paid time; timers move with it', async () => {
    assert.equal((await payFor(sys, 'eight-seconds')).outcome, 'granted');
    const [first] = (await rowsFor(sys, TG)).subscriptions;
    const firstEnd = new Date(first.expires_at).getTime();

    const renewal = await payFor(sys, 'eight-seconds');
    assert.equal(renewal.outcome, 'extended');
    const { subscriptions, events } = await rowsFor(sys, TG);
    assert.equal(subscriptions.length, 1, 'the same subscription');
    assert.equal(subscriptions[0].client_uuid, first.client_uuid, 'the same key');
    assert.equal(subscriptions[0].subscription_token, first.subscription_token, 'the same subscription URL');
    assert.equal(
      new Date(subscriptions[0].expires_at).getTime() - firstEnd,
      8_000,
      'exactly +duration from the old end',
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['activated', 'extended'],
    );

    // Past the old end: still active, still on the node.
    await new Promise((r) => setTimeout(r, Math.max(0, firstEnd - Date.now() + 1_500)));
    assert.equal((await rowsFor(sys, TG)).subscriptions[0].status, 'active', 'no revoke at the old date');
    assert.deepEqual(await sys.nodeClients(), [first.id]);

    await sys.telegram.waitFor((c) => /has ended/.test(String(c.params.text)), 30_000);
    const texts = sys.telegram.sentTo(TG).map((c) => String(c.params.text ?? c.params.caption));
    const reminders = texts.filter((t) => t.includes('ends in'));
    assert.equal(reminders.length, 1, `one reminder, for the new date: ${JSON.stringify(texts)}`);
    assert.equal(texts.filter((t) => t.includes('extended until')).length, 1);
    assert.equal((await rowsFor(sys, TG)).subscriptions[0].status, 'expired');
    assert.deepEqual(await sys.nodeClients(), []);
    await sys.client.workflow.getHandle(`subscription-${first.id}`).result();
    await recordHistory(sys.client, `subscription-${first.id}`, 'subscription-renewed-then-expired');
  });

  it('paying after expiry starts a new access with a new key', async () => {
    const before = (await rowsFor(sys, TG)).subscriptions;
    assert.equal((await payFor(sys, 'eight-seconds')).outcome, 'granted');
    const after = (await rowsFor(sys, TG)).subscriptions;
    assert.equal(after.length, before.length + 1);
    const fresh = after[after.length - 1];
    assert.equal(fresh.status, 'active');
    assert.notEqual(fresh.client_uuid, before[0].client_uuid);
    assert.deepEqual(await sys.nodeClients(), [fresh.id]);
  });
});
