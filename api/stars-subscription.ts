import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from 'pino';
import { STARS_SUBSCRIPTION_PERIOD_SECONDS, starsRenewalPaymentId } from '../activities/stars-subscriptions';
import { TASK_QUEUES } from '../infra/temporal';
import type { purchaseWorkflow } from '../workflows/purchase';
import {
  type PaymentNotice,
  PURCHASE_WORKFLOW_TYPE,
  type PurchaseInput,
  paymentNoticeSignal,
  purchaseWorkflowId,
} from '../workflows/purchase-messages';
import type { starsSubscriptionSyncWorkflow } from '../workflows/stars-subscription';
import {
  STARS_SUBSCRIPTION_SYNC_WORKFLOW_TYPE,
  starsSubscriptionChangedSignal,
  starsSubscriptionSyncWorkflowId,
} from '../workflows/stars-subscription-messages';
import { type Row, sqlOne } from './db';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';

// Stars subscriptions at the edge (issue 13): the create refusal for tariffs Telegram cannot sell as a
// subscription, the recurring charge forwarded by the bot (one renewal purchase per charge id, or a refund),
// and the cancel that tells Telegram to stop charging.

type Deps = Pick<ApiDeps, 'orm' | 'temporal' | 'logger' | 'config'>;

/**
 * Auto-renew by Stars is a Telegram subscription, and Telegram has one period: 30 days. Any other tariff is
 * refused before a payment exists (422 `stars_subscription_unavailable`); so is a promo code, since Telegram
 * would charge the discounted price every month. A second one while one is live is 409 `stars_subscription_active`.
 */
export async function refuseStarsSubscription(
  deps: Pick<Deps, 'orm'>,
  userId: string,
  tariff: Row,
  promoCode: string | undefined,
): Promise<void> {
  if (Number(tariff.duration_seconds) !== STARS_SUBSCRIPTION_PERIOD_SECONDS)
    throw new HttpError(
      422,
      'stars_subscription_unavailable',
      'auto-renew by Telegram Stars is a 30-day Telegram subscription: only 30-day tariffs can be paid this way',
      'save_payment_method',
    );
  if (promoCode)
    throw new HttpError(
      422,
      'stars_subscription_unavailable',
      'a Stars subscription renews at its first price: it cannot start with a promo code',
      'promo_code',
    );
  // Two live subscriptions would mean two charges every month for one access.
  const running = await sqlOne(
    deps.orm,
    `select 1 from stars_subscriptions where user_id = ? and status = 'active' limit 1`,
    [userId],
  );
  if (running)
    throw new HttpError(
      409,
      'stars_subscription_active',
      'a Stars subscription already renews this access; it is charged by Telegram every 30 days',
    );
}

export interface RecurringCharge {
  telegram_id: string;
  telegram_payment_charge_id: string;
  total_amount: number;
  subscription_expiration_date?: number;
}

/** Why a recurring charge buys nothing (and goes back), or null when it renews. */
async function refusalOf(deps: Deps, subscription: Row | undefined): Promise<string | null> {
  if (!subscription) return 'no Stars subscription was opened by this payment';
  if (subscription.status === 'canceled') return 'the Stars subscription was canceled';
  // A refund of the first payment or of any renewal means the access was canceled or refunded.
  const refunded = await sqlOne(
    deps.orm,
    `select 1 from payments p
      where (p.id = ? or p.id in (select payment_id from stars_subscription_charges where subscription_payment_id = ?))
        and (p.status = 'refunded' or p.refunded_amount > 0)
      limit 1`,
    [subscription.payment_id, subscription.payment_id],
  );
  return refunded ? 'the access this subscription paid for was refunded' : null;
}

/**
 * A recurring successful_payment of a Stars subscription (`is_recurring`, not the first). The charge id is
 * booked once (stars_subscription_charges, its primary key) with its fate: a renewal purchase
 * `purchase-<id derived from the charge>` that verifies the charge with Telegram and extends the access by one
 * period, or, for a canceled subscription or a refunded access, a refund (stars-refund-<charge id>).
 */
export async function confirmRecurringCharge(
  deps: Deps,
  log: Logger,
  payment: Row,
  c: RecurringCharge,
  refund: (reason: string) => Promise<void>,
): Promise<{ status: 'accepted' | 'refunding' }> {
  const chargeId = c.telegram_payment_charge_id;
  const renewalId = starsRenewalPaymentId(chargeId);
  const subscription = await sqlOne(deps.orm, `select * from stars_subscriptions where payment_id = ?`, [
    payment.id,
  ]);
  const refusal = await refusalOf(deps, subscription);
  if (subscription)
    await deps.orm.em.getConnection().execute(
      `insert into stars_subscription_charges (charge_id, subscription_payment_id, payment_id, outcome)
       values (?, ?, ?, ?) on conflict (charge_id) do nothing`,
      [chargeId, payment.id, renewalId, refusal ? 'refunding' : 'renewing'],
    );
  // The first delivery decided; a repeat (or a concurrent one) follows the same decision.
  const booked = await sqlOne(deps.orm, `select * from stars_subscription_charges where charge_id = ?`, [
    chargeId,
  ]);
  if (!booked || booked.outcome === 'refunding') {
    log.warn({ reason: refusal }, 'recurring stars charge refunded');
    // A refunded access keeps no subscription: Telegram is told to stop, so this is the last such charge.
    if (subscription?.status === 'active')
      await cancelStarsSubscriptions(deps, payment.user_id, String(refusal));
    await refund(refusal ?? 'the Stars subscription does not renew');
    return { status: 'refunding' };
  }
  const notice: PaymentNotice = {
    providerPaymentId: renewalId,
    status: 'succeeded',
    amount: payment.amount,
    currency: 'XTR',
    telegramChargeId: chargeId,
    starsSubscriptionExpiresAt: c.subscription_expiration_date
      ? new Date(c.subscription_expiration_date * 1000).toISOString()
      : null,
  };
  try {
    await deps.temporal.workflow.signalWithStart<typeof purchaseWorkflow, [PaymentNotice]>(
      PURCHASE_WORKFLOW_TYPE,
      {
        workflowId: purchaseWorkflowId(renewalId),
        taskQueue: deps.config.PURCHASES_TASK_QUEUE ?? TASK_QUEUES.purchases,
        args: [await renewalInput(deps, payment, renewalId, chargeId)],
        signal: paymentNoticeSignal,
        signalArgs: [notice],
        // One purchase per charge, ever: a repeat after it closed starts nothing.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      },
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    log.info('recurring stars charge repeated after its renewal finished');
    return { status: 'accepted' };
  }
  log.info({ renewalId }, 'recurring stars charge handed to its renewal purchase');
  return { status: 'accepted' };
}

/** The renewal purchase: the first payment's user and tariff, at the price Telegram charges (the first one). */
async function renewalInput(
  deps: Deps,
  payment: Row,
  renewalId: string,
  chargeId: string,
): Promise<PurchaseInput> {
  const row = await sqlOne(
    deps.orm,
    `select u.id as user_id, u.telegram_id, u.language, t.*
       from payments p join users u on u.id = p.user_id join tariffs t on t.id = p.tariff_id where p.id = ?`,
    [payment.id],
  );
  if (!row) throw new Error(`payment ${payment.id} has no user or tariff`);
  return {
    paymentId: renewalId,
    userId: row.user_id,
    telegramId: String(row.telegram_id),
    language: row.language,
    provider: 'stars',
    tariff: {
      id: Number(row.id),
      name: row.name,
      price: String(row.price),
      currency: row.currency,
      durationSeconds: Number(row.duration_seconds),
      starPrice: Number(payment.amount),
      location: row.location ?? null,
    },
    // The charge is signalled with the start; the window only bounds a Telegram that lists it late.
    paymentTimeoutMs: deps.config.PAYMENT_TIMEOUT,
    remindBeforeMs: deps.config.REMIND_BEFORE,
    nodeWaitLimitMs: deps.config.NODE_WAIT_LIMIT,
    starsRenewal: { subscriptionPaymentId: String(payment.id), chargeId },
  };
}

/**
 * Auto-renew off or a cancel: the user's Stars subscriptions are canceled in our books at once (so a charge
 * that still arrives is refunded) and at Telegram by starsSubscriptionSyncWorkflow (editUserStarSubscription
 * with is_canceled). Returns how many were canceled.
 */
export async function cancelStarsSubscriptions(deps: Deps, userId: string, reason: string): Promise<number> {
  const canceled = await deps.orm.em.getConnection().execute(
    `update stars_subscriptions ss set status = 'canceled', canceled_at = now(), cancel_reason = ?, updated_at = now()
       from users u where u.id = ss.user_id and ss.user_id = ? and ss.status = 'active'
     returning ss.payment_id, ss.charge_id, u.telegram_id`,
    [reason, userId],
  );
  for (const s of canceled as Row[]) {
    await syncAtTelegram(deps, s.payment_id);
    deps.logger.info({ userId, subscriptionPaymentId: s.payment_id, reason }, 'stars subscription canceled');
  }
  return canceled.length;
}

/** An admin refund of a Stars subscription's payment (its first or a renewal) ends the subscription too. */
export async function cancelStarsSubscriptionOfPayment(deps: Deps, paymentId: string): Promise<void> {
  const sub = await sqlOne(
    deps.orm,
    `select ss.user_id from stars_subscriptions ss
      where ss.status = 'active' and (ss.payment_id = ?
        or ss.payment_id in (select subscription_payment_id from stars_subscription_charges where payment_id = ?))`,
    [paymentId, paymentId],
  );
  if (sub) await cancelStarsSubscriptions(deps, sub.user_id, `payment ${paymentId} refunded by an admin`);
}

/** Why auto-renew on may not bring a canceled Stars subscription back: its access was refunded or canceled. */
const REVIVABLE_REASONS = ['auto-renew switched off', 'access canceled'];

/**
 * Auto-renew on again: the user's last Stars subscription, canceled by auto-renew off (or a cancel without
 * refund) and still within its paid period, renews again: our books say `active` at once and Telegram is told
 * (is_canceled false). One whose payments were refunded stays canceled. Returns how many were revived.
 */
export async function reviveStarsSubscription(deps: Deps, userId: string): Promise<number> {
  const revived = await deps.orm.em.getConnection().execute(
    `update stars_subscriptions ss set status = 'active', canceled_at = null, cancel_reason = null, updated_at = now()
      where ss.payment_id = (select last.payment_id from stars_subscriptions last where last.user_id = ?
                               order by last.created_at desc limit 1)
        and ss.status = 'canceled' and ss.cancel_reason in (?, ?)
        and (ss.expires_at is null or ss.expires_at > now())
        and not exists (select 1 from stars_subscriptions live where live.user_id = ss.user_id and live.status = 'active')
        and not exists (select 1 from payments p
              where (p.id = ss.payment_id
                     or p.id in (select payment_id from stars_subscription_charges where subscription_payment_id = ss.payment_id))
                and (p.status = 'refunded' or p.refunded_amount > 0))
     returning ss.payment_id`,
    [userId, ...REVIVABLE_REASONS],
  );
  for (const s of revived as Row[]) {
    await syncAtTelegram(deps, s.payment_id);
    deps.logger.info({ userId, subscriptionPaymentId: s.payment_id }, 'stars subscription renews again');
  }
  return revived.length;
}

/** Starts the subscription's sync, or tells the running one that the books changed again. */
async function syncAtTelegram(deps: Deps, subscriptionPaymentId: string): Promise<void> {
  await deps.temporal.workflow.signalWithStart<typeof starsSubscriptionSyncWorkflow, []>(
    STARS_SUBSCRIPTION_SYNC_WORKFLOW_TYPE,
    {
      workflowId: starsSubscriptionSyncWorkflowId(subscriptionPaymentId),
      taskQueue: deps.config.PURCHASES_TASK_QUEUE ?? TASK_QUEUES.purchases,
      args: [{ subscriptionPaymentId }],
      signal: starsSubscriptionChangedSignal,
      signalArgs: [],
    },
  );
}
