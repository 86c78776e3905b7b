// Stars subscriptions (issue 13): the names the API and the tests share with the workflow.
import { defineSignal } from '@temporalio/workflow';

export const STARS_SUBSCRIPTION_CANCEL_WORKFLOW_TYPE = 'starsSubscriptionCancelWorkflow';

/** One cancel per Stars subscription (named by its first payment): Telegram is told at most once per run. */
export const starsSubscriptionCancelWorkflowId = (subscriptionPaymentId: string) =>
  `stars-sub-cancel-${subscriptionPaymentId}`;

export interface StarsSubscriptionCancelInput {
  telegramId: string;
  /** The subscription's first charge id: what editUserStarSubscription takes. */
  chargeId: string;
  subscriptionPaymentId: string;
  reason: string;
}

export const STARS_SUBSCRIPTION_SYNC_WORKFLOW_TYPE = 'starsSubscriptionSyncWorkflow';

/**
 * One sync per Stars subscription at a time: it tells Telegram what our books say (canceled or renewing), and
 * runs again when the books change while it talks to Telegram, so a quick off → on → off ends as "off".
 */
export const starsSubscriptionSyncWorkflowId = (subscriptionPaymentId: string) =>
  `stars-sub-sync-${subscriptionPaymentId}`;

export interface StarsSubscriptionSyncInput {
  subscriptionPaymentId: string;
}

/** The books changed (canceled or revived) while a sync ran: it syncs once more before it ends. */
export const starsSubscriptionChangedSignal = defineSignal('starsSubscriptionChanged');
