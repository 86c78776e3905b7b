import { database as db, starsSubscriptions } from './activity-options';
import type { StarsSubscriptionCancelInput } from './stars-subscription-messages';

/**
 * Auto-renew off (or a cancel) for a Stars subscription: Telegram is asked to stop charging
 * (editUserStarSubscription, is_canceled: true). Our books already say "canceled", so a charge that still
 * arrives is refunded (api/stars-subscription.ts); this only spares the user that charge and its refund.
 */
export async function starsSubscriptionCancelWorkflow(
  input: StarsSubscriptionCancelInput,
): Promise<'canceled' | 'unknown'> {
  try {
    return await starsSubscriptions.cancelStarSubscription(input);
  } catch (err) {
    await db.raiseOpsAlert({
      kind: 'stars_subscription_cancel_failed',
      detail: `stars subscription ${input.subscriptionPaymentId} of user ${input.telegramId}: ${String(err)}`,
    });
    return 'unknown';
  }
}
