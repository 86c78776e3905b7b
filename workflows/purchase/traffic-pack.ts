import { ApplicationFailure } from '@temporalio/workflow';
import { purchaseDatabase as db, quotaNodes, refunds, trafficPacks } from '../activity-options';
import { enterStage, errorMessage, notify, type Purchase } from './state';

// The traffic pack's hook into the purchase (purpose `traffic_pack`, issue 12): the paid bytes go to the
// buyer's running access once, or the payment is refunded. Money invariant: never both, never neither.

export async function sellTrafficPack(
  p: Purchase,
): Promise<{ outcome: 'traffic_pack_added' | 'refunded'; subscriptionId?: string }> {
  enterStage(p, 'PROVISIONING');
  let subscriptionId: string | undefined;
  try {
    await db.recordPaymentSucceeded({ paymentId: p.input.paymentId, notice: p.settled! });
    const pack = await trafficPacks.addTrafficPack({ paymentId: p.input.paymentId });
    if (!pack.added)
      throw ApplicationFailure.nonRetryable(
        'no active subscription to add the traffic pack to',
        'NoActiveSubscription',
      );
    subscriptionId = pack.subscriptionId;
  } catch (err) {
    p.status.lastError = errorMessage(err);
    enterStage(p, 'REFUNDING');
    await refunds.refundPayment({ paymentId: p.input.paymentId, reason: p.status.lastError });
    await notify(p, { kind: 'refunded', paymentId: p.input.paymentId });
    enterStage(p, 'REFUNDED');
    return { outcome: 'refunded' };
  }
  // Unsuspended in the same transaction if the pack covers the usage: the keys work again right now.
  await quotaNodes.restoreAccess({ subscriptionId: subscriptionId! }).catch(() => undefined);
  enterStage(p, 'NOTIFYING');
  await notify(p, { kind: 'traffic_pack_added', paymentId: p.input.paymentId, subscriptionId });
  enterStage(p, 'COMPLETED');
  return { outcome: 'traffic_pack_added', subscriptionId };
}
