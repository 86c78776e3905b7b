// The one catalogue of failure types: activities throw them (ApplicationFailure types), workflows list the
// non-retryable ones (nonRetryableErrorTypes) and the API maps them to answers. Plain data: safe in workflows.
export const Failure = {
  /** The provider cannot be reached or is not configured: the payment link could not be made. */
  PaymentProviderUnavailable: 'PaymentProviderUnavailable',
  /** The provider refused the payment for good (bad receipt, no Stars price, ...). */
  PaymentRejected: 'PaymentRejected',
  /** Our database has no such payment. */
  PaymentNotFound: 'PaymentNotFound',
  /** The provider's amount differs from what the tariff costs: never granted, ops look. */
  AmountMismatch: 'AmountMismatch',
  /** The paid tariff is for another location than the user's active access: refunded, never extended. */
  LocationMismatch: 'LocationMismatch',
  /** Telegram knows no such Stars charge of that user. */
  StarChargeNotFound: 'StarChargeNotFound',
  /** Our database has no such subscription (yet): retried until it is committed. */
  SubscriptionNotFound: 'SubscriptionNotFound',
  /** A node refused the call or does not exist. */
  NodeRejected: 'NodeRejected',
  /** A drain was started for a node our database does not have. */
  NodeNotFound: 'NodeNotFound',
  /** No healthy node with free capacity within the wait limit. */
  NoNodeAvailable: 'NoNodeAvailable',
  /** An operator chose refund for a paid purchase stuck before its access existed. */
  OperatorRefund: 'OperatorRefund',
  /** The user blocked the bot. */
  TelegramBlocked: 'TelegramBlocked',
  /** Telegram refused the request for good. */
  TelegramRejected: 'TelegramRejected',
  /** Admin actions (workflows/admin-actions.ts): no such user / tariff, or no running access to act on. */
  UserNotFound: 'UserNotFound',
  TariffNotFound: 'TariffNotFound',
  NoActiveSubscription: 'NoActiveSubscription',
  /** Provider `balance`: the user's balance does not cover the price (the API answers 409). */
  InsufficientBalance: 'InsufficientBalance',
  /** Our database has no such booked refund. */
  RefundNotFound: 'RefundNotFound',
  /** The provider that took the money cannot be reached from this worker (not configured): retried. */
  RefundImpossible: 'RefundImpossible',
  /** Our database has no such free grant (trial, free-days code, referral or gift days). */
  GrantNotFound: 'GrantNotFound',
  /** Our database has no such broadcast. */
  BroadcastNotFound: 'BroadcastNotFound',
  /** A broadcast delivery for a chat that is not among its recipients. */
  NotARecipient: 'NotARecipient',
  /** This worker has no Telegram sender (no bot token): the broadcast activity cannot run here. */
  NoSender: 'NoSender',
  /** Retryable: Telegram answered 429; retried after its retry_after. */
  TelegramRateLimited: 'TelegramRateLimited',
  /** Retryable: the chat had a message less than a second ago (Telegram's per-chat pace). */
  ChatPace: 'ChatPace',
  /** A paid plan change whose access changed (renewed, refunded, over) after its credit was quoted: refunded. */
  PlanChangeStale: 'PlanChangeStale',
} as const;

export type FailureType = (typeof Failure)[keyof typeof Failure];

/**
 * The failure type an activity threw, wherever it sits: a scheduled activity's ApplicationFailure arrives
 * under an ActivityFailure, a local activity's arrives bare (issue 17: the balance's 409 became a 503).
 */
export function failureType(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}
