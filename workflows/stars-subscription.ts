import { setHandler } from '@temporalio/workflow';
import { database as db, starsSubscriptions } from './activity-options';
import {
  type StarsSubscriptionCancelInput,
  type StarsSubscriptionSyncInput,
  starsSubscriptionChangedSignal,
} from './stars-subscription-messages';

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

/**
 * Auto-renew off, a cancel, or auto-renew on again before the paid period ends: Telegram is told what our books
 * now say (editUserStarSubscription, is_canceled true or false). A change while it runs makes it sync once more,
 * so Telegram ends in the books' last state whatever order the switches came in.
 */
export async function starsSubscriptionSyncWorkflow(
  input: StarsSubscriptionSyncInput,
): Promise<'canceled' | 'renewing' | 'expired' | 'unknown'> {
  let changed = false;
  setHandler(starsSubscriptionChangedSignal, () => {
    changed = true;
  });
  let outcome: 'canceled' | 'renewing' | 'expired' | 'unknown';
  do {
    changed = false;
    outcome = await tellTelegram(input);
  } while (changed);
  return outcome;
}

async function tellTelegram(input: StarsSubscriptionSyncInput) {
  try {
    return await starsSubscriptions.syncStarSubscription(input.subscriptionPaymentId);
  } catch (err) {
    await db.raiseOpsAlert({
      kind: 'stars_subscription_sync_failed',
      detail: `stars subscription ${input.subscriptionPaymentId}: ${String(err)}`,
    });
    return 'unknown' as const;
  }
}
