import { database as db, starsRefunds as payments } from './activity-options';
import type { StarsRefundInput, StarsRefundResult } from './purchase-messages';

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
