import assert from 'node:assert/strict';
import type { PurchaseResult } from '../../workflows/purchase';
import { PurchaseSystem } from '../support/system';
import { signalProviderState } from '../support/webhook';

const TG = 780_001;

describe('subscription workflow: several reminder offsets (REMIND_BEFORE=8s,4s)', function () {
  this.timeout(120_000);
  const sys = new PurchaseSystem({ remindBeforeMs: [8_000, 4_000] });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createUser(TG);
    await sys.createTariff('fourteen-seconds', 14);
  });
  after(() => sys.stop());

  it('delivers one reminder per offset, each once, across a worker restart between them', async () => {
    const { link, handle, paymentId } = await sys.buy(TG, 'fourteen-seconds');
    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'granted');
    const isReminder = (c: { params: Record<string, unknown> }) =>
      Number(c.params.chat_id) === TG && /ends in/.test(String(c.params.text));
    await sys.telegram.waitFor(isReminder, 20_000);
    await sys.stopWorkers(); // the worker goes away between the two reminders
    await sys.startWorkers();
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === TG && /has ended/.test(String(c.params.text)),
      30_000,
    );
    const sent = sys.telegram.sentTo(TG).map((c) => String(c.params.text ?? c.params.caption));
    assert.equal(sent.filter((t) => /ends in/.test(t)).length, 2, `two reminders: ${JSON.stringify(sent)}`);
    assert.equal(sent.filter((t) => /has ended/.test(t)).length, 1);
  });
});
