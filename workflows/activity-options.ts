import {
  type ActivityOptions,
  type LocalActivityOptions,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBalanceActivities } from '../activities/balance';
import type { createDatabaseActivities } from '../activities/database';
import type { createFleetActivities } from '../activities/fleet';
import type { createFreeAccessActivities } from '../activities/free-access';
import type { createLifetimeActivities } from '../activities/lifetime';
import type { createNodeActivities } from '../activities/nodes';
import type { createGiftActivities } from '../activities/gifts';
import type { createPaymentActivities } from '../activities/payments';
import type { createPlanChangeActivities } from '../activities/plan-change';
import type { createGrantActivities, createReferralActivities } from '../activities/referrals';
import type { createRefundActivities } from '../activities/refunds';
import type { createQuotaActivities } from '../activities/quota';
import type { createTelegramActivities } from '../activities/telegram';
import type { createStarsSubscriptionActivities } from '../activities/stars-subscriptions';
import { Failure } from './failures';
import type { createOpsAlertActivities, createOpsWatchActivities } from '../activities/ops-alerts';
import { telegramQueueFor } from './telegram-queue';

// Every activity policy of every workflow, each named for its purpose. Timeouts and retries are not part of
// a workflow's history, so they may be tuned here without breaking replay.

type Payments = ReturnType<typeof createPaymentActivities>;
type Database = ReturnType<typeof createDatabaseActivities>;
type Nodes = ReturnType<typeof createNodeActivities>;
type Lifetime = ReturnType<typeof createLifetimeActivities>;
type Telegram = ReturnType<typeof createTelegramActivities>;
type FreeAccess = ReturnType<typeof createFreeAccessActivities>;

// The payment link must reach the user quickly: few, fast attempts while the API waits.
const paymentCreationPolicy = {
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: [Failure.PaymentRejected],
  },
} satisfies ActivityOptions & LocalActivityOptions;
export const paymentCreation = proxyActivities<Pick<Payments, 'createPayment'>>(paymentCreationPolicy);

// A poll is one of many: give up on it quickly and let the next one try (a failed poll is a missed poll).
export const polling = proxyActivities<Pick<Payments, 'getPaymentState'>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});

// At the deadline the provider may need a while to settle a payment: ask until it is final.
export const settlement = proxyActivities<Pick<Payments, 'cancelOrGetFinalState'>>({
  startToCloseTimeout: '20s',
  scheduleToCloseTimeout: '25h',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m' },
});

// Telegram must confirm a claimed Stars charge before it buys anything; its outages are waited out.
export const starsCheck = proxyActivities<Pick<Payments, 'verifyStarCharge'>>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// Refunds are money owed to a user: keep trying until an operator intervenes.
export const refunds = proxyActivities<Pick<Payments, 'refundPayment' | 'refundStarCharge'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10m' },
});

// A Stars refund of a charge that found no purchase: keep trying until Telegram answers (a made-up charge id
// is not retried).
export const starsRefunds = proxyActivities<Pick<Payments, 'refundStarCharge'>>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    nonRetryableErrorTypes: [Failure.StarChargeNotFound],
  },
});

// Our own database during a purchase: transient failures heal, so retry without a cap; bugs surface as
// non-retryable types.
type PurchaseDatabase = Pick<
  Database,
  | 'recordPaymentSucceeded'
  | 'recordPaymentCanceled'
  | 'recordPaymentExpired'
  | 'extendActiveSubscription'
  | 'activateSubscription'
  | 'selectNode'
  | 'raiseOpsAlert'
  | 'observeKeyDelivered'
>;
const purchaseDatabasePolicy = {
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [Failure.AmountMismatch],
  },
} satisfies ActivityOptions & LocalActivityOptions;
export const purchaseDatabase = proxyActivities<PurchaseDatabase>(purchaseDatabasePolicy);

// Our own database for the lifetime and refunds: transient failures heal, so retry without a cap.
export const database = proxyActivities<Pick<Database, 'beginRevoke' | 'finishRevoke' | 'raiseOpsAlert'>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});

// Provisioning on a node: a few tries, then the purchase sets the node aside and tries another.
export const nodes = proxyActivities<Pick<Nodes, 'addClient' | 'removeClient'>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
});

// A spare client left on a node costs nothing but a slot: a few quick tries, then the background loop.
export const spareRemoval = proxyActivities<Pick<Nodes, 'removeClient'>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

// Revocation must happen: keep retrying a dead node (ops see the stage REVOKING) rather than give up.
export const revoke = proxyActivities<Pick<Nodes, 'removeClient'>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

// Only timeouts changed over time (no command order): histories replay unchanged. The activity
// heartbeats about once a second, so a worker that died mid-round is noticed in 30 s, not 2 min.
// One desired-state round on one node: a few quick attempts; an unreachable node waits for the next round.
export const nodeReconcile = proxyActivities<Pick<Nodes, 'reconcileNode'>>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: [Failure.NodeRejected] },
});

export const nodeHealth = proxyActivities<Pick<Nodes, 'checkNodes'>>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '5s', maximumAttempts: 3 },
});

// The balance is our own database: retry like it; a top-up of the wrong amount is a bug, not a glitch.
export const balance = proxyActivities<Pick<ReturnType<typeof createBalanceActivities>, 'creditTopUp'>>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [Failure.AmountMismatch, Failure.PaymentNotFound],
  },
});

// Cancel and refund bookkeeping in our database: transient failures heal, retry without a cap.
export const refundBooks = proxyActivities<Pick<ReturnType<typeof createRefundActivities>, 'prepareCancel'>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});

// A booked refund is money owed to a user: keep trying (the provider's idempotence key makes each try the same).
export const refundPayouts = proxyActivities<
  Pick<ReturnType<typeof createRefundActivities>, 'executeRefund'>
>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '10m',
    nonRetryableErrorTypes: [Failure.RefundNotFound],
  },
});

// Plan changes (issue 13): our own database, retried without a cap; a change that went stale is refunded.
export const planChange = proxyActivities<ReturnType<typeof createPlanChangeActivities>>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [Failure.PlanChangeStale],
  },
});

// Auto-renew bookkeeping (the period's charge row, the plan of an attempt): our own database, retried without a cap.
export const autoRenewBooks = proxyActivities<
  ReturnType<typeof import('../activities/auto-renew').createAutoRenewActivities>
>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});

// Handing an access's end to its lifetime workflow: Temporal heals, so retry without a cap.
const lifetimePolicy = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
} satisfies ActivityOptions & LocalActivityOptions;
export const lifetime = proxyActivities<Pick<Lifetime, 'scheduleLifetime'>>(lifetimePolicy);

// Free access (trials, free-days codes; workflows/trial.ts): our own database, retried without a cap.
export const freeAccess = proxyActivities<FreeAccess>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});
// Referrals and gifts (issue 14). Our own database and Temporal: transient failures heal, retry without a cap.
export const grants = proxyActivities<ReturnType<typeof createGrantActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});
export const gifts = proxyActivities<
  Pick<ReturnType<typeof createGiftActivities>, 'claimGift' | 'expireGift' | 'markGiftRefunded'>
>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});
const referralsPolicy = {
  startToCloseTimeout: '20s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
} satisfies ActivityOptions & LocalActivityOptions;
export const referrals = proxyActivities<ReturnType<typeof createReferralActivities>>(referralsPolicy);
// The purchase's gift step: a bounded number of tries, then the purchase refunds the gift it could not make.
export const giftSale = proxyActivities<Pick<ReturnType<typeof createGiftActivities>, 'createGift'>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 20 },
});

// Messages wait out Telegram's outages and rate limits for an hour; a blocked user or a refused message is final.
const telegramOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1h',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [Failure.TelegramBlocked, Failure.TelegramRejected],
  },
};

/** Notification activities on the rate-limited telegram queue that pairs with this workflow's queue. */
export function telegram(): Pick<Telegram, 'notify'> {
  return proxyActivities<Pick<Telegram, 'notify'>>({
    ...telegramOptions,
    taskQueue: telegramQueueFor(workflowInfo().taskQueue),
  });
}

// Traffic quota (workflows/quota.ts, issue 12). One round's collection and enforcement: a few quick tries,
// then the next round (QUOTA_CHECK_INTERVAL) tries again; nothing is lost meanwhile (cursors, outbox).
type Quota = ReturnType<typeof createQuotaActivities>;
export const quotaRound = proxyActivities<Pick<Quota, 'collectUsage' | 'enforceQuota' | 'markNoticeDone'>>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});
// Taking a suspended access off its nodes / putting it back: a few tries; the reconcile finishes the rest.
export const quotaNodes = proxyActivities<Pick<Quota, 'cutOffAccess' | 'restoreAccess'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});
// A paid traffic pack: our own database, retried without a cap (like the other grants).
export const trafficPacks = proxyActivities<Pick<Quota, 'addTrafficPack'>>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [Failure.PaymentNotFound],
  },
});

/** Quota notices on the telegram queue with a short bound: an unsent notice is tried again next round. */
export function quotaTelegram(): Pick<Telegram, 'notify'> {
  return proxyActivities<Pick<Telegram, 'notify'>>({
    ...telegramOptions,
    scheduleToCloseTimeout: '2m',
    taskQueue: telegramQueueFor(workflowInfo().taskQueue),
  });
}

// Ops alerts (workflows/ops-alert.ts, issue 16). An alert is worth a day of Telegram outage; a chat that refuses
// it is final (logged by the activity). It goes on the telegram queue: alerts share the one Telegram budget.
type OpsAlerts = ReturnType<typeof createOpsAlertActivities>;
export function opsAlertDelivery(): Pick<OpsAlerts, 'sendOpsAlert'> {
  return proxyActivities<Pick<OpsAlerts, 'sendOpsAlert'>>({
    taskQueue: telegramQueueFor(workflowInfo().taskQueue),
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '24h',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '5m',
      nonRetryableErrorTypes: [Failure.TelegramRejected],
    },
  });
}

// The stuck-purchases watch: a few tries per round; a failed round is reported and the next one tries again.
export const opsWatch = proxyActivities<ReturnType<typeof createOpsWatchActivities>>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 3 },
});

type Fleet = ReturnType<typeof createFleetActivities>;

// A drain's bookkeeping is our own database: retry without a cap, the drain waits rather than skips.
// Short timeouts: each call is one query or transaction, and a worker killed mid-call costs no more than this.
export const drainBookkeeping = proxyActivities<
  Pick<Fleet, 'beginDrain' | 'drainBatch' | 'recordMoveFailed' | 'finishDrain'>
>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// The health loop's look for dead nodes to drain: a few tries, the next round looks again (never stalls the loop).
export const deadNodeDrains = proxyActivities<Pick<Fleet, 'drainDeadNodes'>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

// One access moving to another node: a few tries (the target may be flaky), then it counts as failed
// and the drain goes on with the others. One move is a few agent calls (each under the driver's own deadline).
export const drainMove = proxyActivities<Pick<Fleet, 'moveAccess'>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
});

// The drained node's old clients: a dead node may never answer, so a few tries and the node is disabled anyway.
export const drainCleanup = proxyActivities<Pick<Fleet, 'clearDrainedNode'>>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 4 },
});

// Stars subscriptions (issue 13): editUserStarSubscription(is_canceled) until Telegram answers; a 400 that
// names no such subscription comes back as a value; after 12 tries (hours) ops are alerted.
export const starsSubscriptions = proxyActivities<ReturnType<typeof createStarsSubscriptionActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 12 },
});

// A purchase's own quick steps (the payment link, its database steps, the lifetime hand-off, the referral
// offer) as local activities: each runs inside the workflow task that reaches it, without a round trip
// through the server, on the same policies (issue 17: a purchase made ten activity round trips).
// At-least-once like any activity; every one of these steps is idempotent by payment id.
export const purchaseStepsLocal = {
  paymentCreation: proxyLocalActivities<Pick<Payments, 'createPayment'>>(paymentCreationPolicy),
  db: proxyLocalActivities<PurchaseDatabase>(purchaseDatabasePolicy),
  lifetime: proxyLocalActivities<Pick<Lifetime, 'scheduleLifetime'>>(lifetimePolicy),
  referrals:
    proxyLocalActivities<Pick<ReturnType<typeof createReferralActivities>, 'offerReferralReward'>>(
      referralsPolicy,
    ),
};
/** The same steps as (server-scheduled) activities: purchases begun before the local steps replay on these. */
export const purchaseStepsScheduled: typeof purchaseStepsLocal = {
  paymentCreation,
  db: purchaseDatabase,
  lifetime,
  referrals,
};
export type PurchaseSteps = typeof purchaseStepsLocal;
