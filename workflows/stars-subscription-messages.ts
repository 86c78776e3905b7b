// Stars subscriptions (issue 13): the names the API and the tests share with the workflow.

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
