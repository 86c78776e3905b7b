import { proxyActivities } from '@temporalio/workflow';
import type { createDatabaseActivities } from '../activities/database';
import type { createPaymentActivities } from '../activities/payments';
import type { StarsRefundInput, StarsRefundResult } from './purchase-messages';

// Money owed to a user: keep trying until Telegram answers (a made-up charge id is not retried).
const payments = proxyActivities<ReturnType<typeof createPaymentActivities>>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    nonRetryableErrorTypes: ['StarChargeNotFound'],
  },
});
const db = proxyActivities<ReturnType<typeof createDatabaseActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** A Stars charge that found no open purchase (orphan) or paid a payload twice: back to the payer. */
export async function starsRefundWorkflow(input: StarsRefundInput): Promise<StarsRefundResult> {
  try {
    return await payments.refundStarCharge(input);
  } catch (err) {
    await db.raiseOpsAlert({
      kind: 'stars_refund_failed',
      detail: `charge ${input.chargeId} of user ${input.telegramId} (payment ${input.paymentId}): ${String(err)}`,
    });
    return 'not_found';
  }
}
