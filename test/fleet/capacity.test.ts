import assert from 'node:assert/strict';
import type { PurchaseResult } from '../../workflows/purchase';
import type { RunningAgent } from '../support/agent';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

/** Emails a node's agent really carries. */
async function clientsOn(agent: RunningAgent): Promise<string[]> {
  const res = await agent.call('GET', '/clients');
  return (res.json.clients ?? res.json).map((c: { email: string }) => c.email);
}

/** `count` users pay at the same moment; every purchase runs to its end. */
async function payAtOnce(sys: PurchaseSystem, firstTg: number, count: number) {
  const tgs = Array.from({ length: count }, (_, i) => firstTg + i);
  await Promise.all(tgs.map((tg) => sys.createUser(tg)));
  const started = await Promise.all(tgs.map((tg) => sys.buy(tg, 'one-hour')));
  for (const s of started) sys.yookassa.pay(s.link.providerPaymentId!);
  await Promise.all(started.map((s) => signalProviderState(sys, s.paymentId, s.link.providerPaymentId!)));
  const results: PurchaseResult[] = await Promise.all(started.map((s) => s.handle.result()));
  return { tgs, results };
}

/** The money invariant per user: a succeeded payment is either one active access or one provider refund. */
async function assertMoneyInvariant(sys: PurchaseSystem, tgs: number[]) {
  for (const tg of tgs) {
    const { subscriptions, payments } = await rowsFor(sys, tg);
    assert.equal(payments.length, 1);
    const refunds = sys.yookassa.refunds().filter((r) => r.payment_id === payments[0].provider_payment_id);
    if (payments[0].status === 'refunded') {
      assert.equal(subscriptions.length, 0, `tg ${tg}: refunded and granted`);
      assert.equal(refunds.length, 1, `tg ${tg}: one refund at the provider`);
    } else {
      assert.equal(payments[0].status, 'succeeded');
      assert.equal(subscriptions.filter((s) => s.status === 'active').length, 1, `tg ${tg}: one access`);
      assert.equal(refunds.length, 0, `tg ${tg}: granted and refunded`);
    }
  }
}

describe('fleet: capacity is reserved at selection', function () {
  this.timeout(180_000);
  const sys = new PurchaseSystem({ withNode: false, nodeWaitLimitMs: 4_000 });
  const agents: Record<string, RunningAgent> = {};
  const extra: Array<() => Promise<void>> = [];
  let nodeA: string;
  let nodeB: string;

  /** Registers a real node; the previous one's processes are kept for stopping at the end. */
  async function node(capacity: number, name: string): Promise<string> {
    const id = await sys.addLocalNode(capacity);
    const { agent, xray, target } = sys;
    extra.push(async () => {
      await agent?.stop();
      await xray?.stop();
      await target?.close();
    });
    agents[id] = sys.agent!;
    // Names order ties in selection: the small node comes first, which is where a race would pile up.
    await sys.orm.em.getConnection().execute(`update vpn_nodes set name = ? where id = ?`, [name, id]);
    return id;
  }

  before(async () => {
    await sys.start();
    nodeA = await node(1, 'a-small');
    nodeB = await node(100, 'b-big');
    await sys.startWorkers();
    await sys.createTariff('one-hour', 3600);
  });
  after(async () => {
    sys.agent = undefined;
    sys.xray = undefined;
    sys.target = undefined;
    await sys.stop();
    for (const stop of extra) await stop();
  });

  it('10 concurrent purchases with one slot on the first node: 1 lands there, 9 elsewhere', async () => {
    const { tgs, results } = await payAtOnce(sys, 740_100, 10);
    assert.deepEqual(
      results.map((r) => r.outcome),
      Array(10).fill('granted'),
    );
    const conn = sys.orm.em.getConnection();
    const perNode = await conn.execute(
      `select node_id, count(*)::int as n from subscriptions where status = 'active' group by node_id`,
    );
    const count = (id: string) => perNode.find((r) => r.node_id === id)?.n ?? 0;
    assert.equal(count(nodeA), 1, 'the one-slot node got exactly one access');
    assert.equal(count(nodeB), 9);
    assert.equal((await clientsOn(agents[nodeA])).length, 1, 'and carries exactly one client');
    assert.equal((await clientsOn(agents[nodeB])).length, 9);
    const [{ n: held }] = await conn.execute(`select count(*)::int as n from node_reservations`);
    assert.equal(held, 0, 'every grant released its reservation');
    await assertMoneyInvariant(sys, tgs);
  });

  it('10 concurrent purchases for the last slot anywhere: 1 granted, 9 refunded', async () => {
    const conn = sys.orm.em.getConnection();
    await conn.execute(`update vpn_nodes set status = 'disabled' where id in (?, ?)`, [nodeA, nodeB]);
    const nodeC = await node(1, 'c-last');
    const { tgs, results } = await payAtOnce(sys, 740_200, 10);
    const outcomes = results.map((r) => r.outcome).sort();
    assert.deepEqual(outcomes, ['granted', ...Array(9).fill('refunded')]);
    assert.equal((await clientsOn(agents[nodeC])).length, 1);
    const [{ n }] = await conn.execute(
      `select count(*)::int as n from subscriptions where node_id = ? and status = 'active'`,
      [nodeC],
    );
    assert.equal(n, 1);
    await assertMoneyInvariant(sys, tgs);
  });
});
