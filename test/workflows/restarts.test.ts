import assert from 'node:assert/strict';
import type { PurchaseResult } from '../../workflows/purchase';
import { purchaseStatusQuery } from '../../workflows/purchase-messages';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';

const TG = 740_001;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('restarts: the worker process is killed at each stage', function () {
  this.timeout(240_000);
  const sys = new PurchaseSystem({ remindBeforeMs: [4_000] });
  let worker: WorkerProcess | undefined;
  const restart = async () => {
    await worker?.kill();
    worker = await spawnWorker(sys, { REMIND_BEFORE: '4s' });
  };
  before(async () => {
    await sys.start();
    await sys.createUser(TG);
    await sys.createTariff('ten-seconds', 10);
  });
  after(async () => {
    await worker?.kill();
    await sys.stop();
  });

  it('a new worker finishes the purchase with no duplicate side effects, and revokes at once after downtime', async () => {
    await restart();
    const { link, handle, paymentId } = await sys.buy(TG, 'ten-seconds');
    await worker!.kill(); // stage: AWAITING_PAYMENT

    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    await restart();
    await sleep(150);
    await restart(); // stage: PROVISIONING, most likely mid-activity

    await sys.telegram.waitFor((c) => c.method === 'sendPhoto' && Number(c.params.chat_id) === TG, 60_000);
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');
    assert.equal((await handle.query(purchaseStatusQuery)).stage, 'COMPLETED');
    await worker!.kill(); // the access sleeps with no worker at all

    const [sub] = (await rowsFor(sys, TG)).subscriptions;
    await sleep(new Date(sub.expires_at).getTime() - Date.now() + 2_000); // the deadline passes during the outage
    assert.equal(
      (await rowsFor(sys, TG)).subscriptions[0].status,
      'active',
      'nothing happens without a worker',
    );
    await restart();
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === TG && /has ended/.test(String(c.params.text)),
      30_000,
    );

    const { subscriptions, events, payments } = await rowsFor(sys, TG);
    assert.equal(subscriptions.length, 1);
    assert.equal(subscriptions[0].status, 'expired');
    assert.equal(payments[0].status, 'succeeded');
    assert.deepEqual(
      events.map((e) => e.type),
      ['activated'],
    );
    assert.deepEqual(await sys.nodeClients(), [], 'revoked on return');
    const mine = sys.yookassa.payments().filter((p) => p.metadata?.purchase_id === paymentId);
    assert.equal(mine.length, 1, 'one payment at the provider');
    const sent = sys.telegram.sentTo(TG);
    const count = (re: RegExp) =>
      sent.filter((c) => re.test(String(c.params.text ?? c.params.caption))).length;
    assert.equal(count(/active until/), 1, 'one activation');
    assert.equal(sent.filter((c) => c.method === 'sendPhoto').length, 1, 'one QR');
    assert.equal(count(/has ended/), 1, 'one expiry message');
    assert.equal(count(/ends in/), 0, 'no reminder for an access already over');
  });
});
