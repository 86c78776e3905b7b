import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { type NodeDriver, NodeUnreachableError } from '../../infra/nodes';
import type { PurchaseResult } from '../../workflows/purchase';
import { recordHistory } from '../support/histories';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

const RACER = 770_001;
const ELSEWHERE = 770_002;

/** An access another purchase committed (the race winner), on the given node. */
async function activeAccess(sys: PurchaseSystem, telegramId: number, nodeId: string, tariffSlug: string) {
  const conn = sys.orm.em.getConnection();
  const [row] = await conn.execute(
    `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
     select ?, u.id, t.id, ?, 'active', ?, ?, ?, now(), now() + interval '1 hour'
       from users u, tariffs t where u.telegram_id = ? and t.slug = ? returning *`,
    [
      randomUUID(),
      nodeId,
      randomUUID(),
      `winner-${randomBytes(3).toString('hex')}`,
      randomBytes(16).toString('hex'),
      telegramId,
      tariffSlug,
    ],
  );
  return row;
}

describe('purchase workflow: grants that must not turn into refunds, and grants that must', function () {
  this.timeout(180_000);
  let removeFailures = 0;
  let removeCalls = 0;
  let raceOnAdd = false;
  // Assigned below: the driver wrapper needs the system it is part of.
  let sys: PurchaseSystem;
  const wrap = (real: NodeDriver): NodeDriver =>
    Object.assign(Object.create(real), {
      addClient: async (c: Parameters<NodeDriver['addClient']>[0]) => {
        await real.addClient(c);
        // While our client goes on the node, the user's other purchase commits its access first.
        if (raceOnAdd) {
          raceOnAdd = false;
          await activeAccess(sys, RACER, sys.nodeId!, 'hour');
        }
      },
      removeClient: async (email: string) => {
        removeCalls++;
        if (removeFailures-- > 0) throw new NodeUnreachableError('connect ECONNREFUSED', 'node');
        return real.removeClient(email);
      },
    });
  sys = new PurchaseSystem({ wrapDriver: wrap });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('hour', 3600);
    await sys.createTariff('hour-de', 3600, { location: 'de' });
  });
  after(() => sys.stop());

  it('lost race: the extension stands even when the node will not drop the spare client, which goes later', async () => {
    await sys.createUser(RACER);
    raceOnAdd = true;
    removeFailures = 6; // more than the old code's 5 attempts: the quick tries and a background round fail
    const { link, handle, paymentId } = await sys.buy(RACER, 'hour');
    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'extended');
    await recordHistory(sys.client, handle.workflowId, 'purchase-race-spare-left-extended');
    assert.ok(removeCalls >= 5, `the spare was retried in the background (${removeCalls} calls)`);
    const { payments, subscriptions, events } = await rowsFor(sys, RACER);
    assert.equal(payments[0].status, 'succeeded', 'no refund after a committed extension');
    assert.equal(sys.yookassa.refunds().length, 0);
    assert.equal(subscriptions.length, 1);
    assert.ok(
      new Date(subscriptions[0].expires_at).getTime() > Date.now() + 1.9 * 3_600_000,
      'two hours paid',
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['extended'],
    );
    assert.deepEqual(await sys.nodeClients(), [], 'the spare client is gone from the node');
  });

  it('an active access in another location is refunded, never extended', async () => {
    await sys.createUser(ELSEWHERE);
    const access = await activeAccess(sys, ELSEWHERE, sys.nodeId!, 'hour'); // the node is in "nl"
    const { link, handle, paymentId } = await sys.buy(ELSEWHERE, 'hour-de');
    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'refunded');
    await recordHistory(sys.client, handle.workflowId, 'purchase-location-mismatch-refunded');
    const { payments, subscriptions } = await rowsFor(sys, ELSEWHERE);
    assert.equal(payments[0].status, 'refunded');
    assert.equal(subscriptions.length, 1);
    assert.equal(
      new Date(subscriptions[0].expires_at).toISOString(),
      new Date(access.expires_at).toISOString(),
      'the NL access keeps its end',
    );
    assert.equal(sys.yookassa.refunds().filter((r) => r.payment_id === link.providerPaymentId).length, 1);
  });
});
