import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { PurchaseResult } from '../../workflows/purchase';
import { LOCAL_CHEAP_STEPS_PATCH } from '../../workflows/purchase/cheap-steps';
import { recordHistory } from '../support/histories';
import { PurchaseSystem } from '../support/system';
import { rowsFor, signalProviderState } from '../support/webhook';

// Issue 17: the purchase's cheap steps run as local activities. Telegram ids of this file: 957_000_xxx.
const TG = 957_000_001;
const CHEAP_STEPS = [
  'recordPaymentSucceeded',
  'extendActiveSubscription',
  'selectNode',
  'activateSubscription',
  'scheduleLifetime',
  'observeKeyDelivered',
  'offerReferralReward',
];

type History = temporal.api.history.v1.IHistory;

/** Activity types the workflow scheduled through the server, in order. */
function scheduled(history: History): string[] {
  return (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((n): n is string => !!n);
}

/** Activity types the workflow ran as local activities (core's markers), in order. */
function localSteps(history: History): string[] {
  return (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_local_activity')
    .map((m) =>
      defaultPayloadConverter.fromPayload<{ activity_type: string }>(m!.details!.data!.payloads![0]),
    )
    .map((d) => d.activity_type);
}

function patches(history: History): string[] {
  return (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map((m) => defaultPayloadConverter.fromPayload<string>(m!.details!['patch-data']!.payloads![0]))
    .map((d) => (typeof d === 'string' ? d : (d as { id: string }).id));
}

describe('purchase: cheap steps as local activities (issue 17)', function () {
  this.timeout(180_000);
  const sys = new PurchaseSystem({ remindBeforeMs: [4_000] });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createUser(TG);
    await sys.createTariff('local-steps-hour', 3_600);
  });
  after(() => sys.stop());

  async function payAndFinish(): Promise<{ result: PurchaseResult; history: History; paymentId: string }> {
    const { link, handle, paymentId } = await sys.buy(TG, 'local-steps-hour');
    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    const result: PurchaseResult = await handle.result();
    return { result, history: await handle.fetchHistory(), paymentId };
  }

  it('a new access: only the provider, the node and Telegram go through the server; everything is recorded once', async () => {
    const { result, history, paymentId } = await payAndFinish();
    assert.equal(result.outcome, 'granted');
    await recordHistory(sys.client, `purchase-${paymentId}`, 'purchase-granted-local-steps');

    assert.ok(patches(history).includes(LOCAL_CHEAP_STEPS_PATCH), 'the patch marker is recorded');
    assert.deepEqual(scheduled(history), ['createPayment', 'addClient', 'notify']);
    assert.deepEqual(localSteps(history), [
      'recordPaymentSucceeded',
      'extendActiveSubscription',
      'selectNode',
      'activateSubscription',
      'scheduleLifetime',
      'observeKeyDelivered',
      'offerReferralReward',
    ]);

    // What the remote steps recorded, the local ones record: payment, access, event, node count, lifetime.
    const { subscriptions, payments, events } = await rowsFor(sys, TG);
    assert.equal(payments[0].status, 'succeeded');
    assert.ok(payments[0].paid_at, 'paid_at set');
    assert.equal(subscriptions.length, 1);
    assert.equal(subscriptions[0].status, 'active');
    assert.equal(payments[0].subscription_id, subscriptions[0].id);
    assert.deepEqual(
      events.map((e) => [e.type, e.payment_id]),
      [['activated', paymentId]],
    );
    const conn = sys.orm.em.getConnection();
    const [node] = await conn.execute(`select client_count from vpn_nodes where id = ?`, [
      subscriptions[0].node_id,
    ]);
    assert.equal(node.client_count, 1);
    const held = await conn.execute(`select * from node_reservations where holder = ?`, [paymentId]);
    assert.equal(held.length, 0, 'the node reservation is released at the grant');
    assert.deepEqual(await sys.nodeClients(), [subscriptions[0].id]);
    const lifetime = await sys.client.workflow.getHandle(`subscription-${subscriptions[0].id}`).describe();
    assert.equal(lifetime.status.name, 'RUNNING', 'the lifetime runs');
    const sent = sys.telegram.sentTo(TG).filter((c) => /active until/.test(String(c.params.caption)));
    assert.equal(sent.length, 1, 'one key message');
  });

  it('a renewal extends by exactly the paid time with its steps local too', async () => {
    const [first] = (await rowsFor(sys, TG)).subscriptions;
    const { result, history } = await payAndFinish();
    assert.equal(result.outcome, 'extended');
    assert.deepEqual(scheduled(history), ['createPayment', 'notify']);
    assert.deepEqual(localSteps(history), [
      'recordPaymentSucceeded',
      'extendActiveSubscription',
      'scheduleLifetime',
      'offerReferralReward',
    ]);
    const { subscriptions, events } = await rowsFor(sys, TG);
    assert.equal(subscriptions.length, 1, 'the same access');
    assert.equal(
      new Date(subscriptions[0].expires_at).getTime() - new Date(first.expires_at).getTime(),
      3_600_000,
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['activated', 'extended'],
    );
    for (const step of CHEAP_STEPS) assert.ok(!scheduled(history).includes(step), `${step} is not remote`);
  });
});
