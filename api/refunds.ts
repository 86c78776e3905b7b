import { createHash } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { appendEntry, inTransaction, isOverdraft } from '../activities/balance';
import { type PlannedRefund, planCancelRefunds } from '../activities/refund-plan';
import { paidPeriods, reserveRefund } from '../activities/refunds';
import { TASK_QUEUES } from '../infra/temporal';
import type { cancelSubscriptionWorkflow, refundWorkflow } from '../workflows/refunds';
import {
  CANCEL_SUBSCRIPTION_WORKFLOW_TYPE,
  type CancelResult,
  cancelWorkflowId,
  REFUND_WORKFLOW_TYPE,
  refundWorkflowId,
} from '../workflows/refunds';
import { type PurchaseStatus, purchaseStatusQuery, purchaseWorkflowId } from '../workflows/purchase-messages';
import type { Row } from './db';
import type { ApiDeps } from './deps';
import { HttpError, invalidField, notFound } from './errors';

/** How long the API waits for a cancel or a refund to finish before answering with what is booked. */
const WAIT_MS = 20_000;

const queueOf = (deps: ApiDeps) => deps.config.PURCHASES_TASK_QUEUE ?? TASK_QUEUES.purchases;

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What a cancel with refund would return now; 409 when there is nothing to refund (window, policy). */
export async function refundQuote(deps: ApiDeps, subscriptionId: string): Promise<PlannedRefund[]> {
  const { REFUND_WINDOW: windowMs, REFUND_POLICY: policy } = deps.config;
  if (windowMs === 0 || policy === 'none')
    throw new HttpError(
      409,
      'refund_not_available',
      'refunds on cancel are off (REFUND_WINDOW / REFUND_POLICY)',
    );
  const plan = await inTransaction(deps.orm, async (q) => {
    const [sub] = await q(
      `select extract(epoch from expires_at - now())::float as remaining from subscriptions where id = ?`,
      [subscriptionId],
    );
    return planCancelRefunds(
      await paidPeriods(q, subscriptionId, windowMs),
      Number(sub?.remaining ?? 0),
      policy,
    );
  });
  if (plan.length === 0)
    throw new HttpError(409, 'refund_not_available', 'no payment of this access is within the refund window');
  return plan;
}

/** Runs (or attaches to) the access's cancel workflow: one per access, however often it is asked. */
export async function cancelWithRefund(
  deps: ApiDeps,
  subscriptionId: string,
): Promise<CancelResult | undefined> {
  const run = (deps.temporal as Client).workflow.execute<typeof cancelSubscriptionWorkflow>(
    CANCEL_SUBSCRIPTION_WORKFLOW_TYPE,
    {
      workflowId: cancelWorkflowId(subscriptionId),
      taskQueue: queueOf(deps),
      args: [
        { subscriptionId, refundWindowMs: deps.config.REFUND_WINDOW, policy: deps.config.REFUND_POLICY },
      ],
      workflowIdConflictPolicy: 'USE_EXISTING',
    },
  );
  return within(run, WAIT_MS);
}

export interface AdminRefundRequest {
  paymentId: string;
  amount?: string;
  to?: 'provider' | 'balance';
  reason: string;
  /** One key per operator action (the bot: tg-tap-<callback id>): a repeat answers the refund it booked. */
  idempotencyKey?: string;
}

/** The refund id an idempotency key stands for (a uuid, as payment_refunds.id is). */
function refundIdFor(paymentId: string, key: string): string {
  const hex = createHash('sha256').update(`admin-refund:${paymentId}:${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface BookedRefund {
  refundId: string;
  paymentId: string;
  amount: string;
  currency: string;
  to: 'provider' | 'balance';
  subscriptionId: string | null;
  accessExpiresAt: string | null;
  /** True when the idempotency key's refund was booked before (nothing new was booked). */
  replayed?: boolean;
}

const cents = (v: string | number) => Math.round(Number(v) * 100);

/**
 * An operator's refund, booked in one transaction under the payment's row lock: never more than what is left
 * of the payment; a top-up refund takes the money back off the balance (refused if it was spent); a refund of
 * an access's payment shortens that access by the refunded share, so access always matches the money kept.
 */
export async function bookAdminRefund(deps: ApiDeps, r: AdminRefundRequest): Promise<BookedRefund> {
  return inTransaction(deps.orm, async (q) => {
    const [p] = await q(
      `select p.*, t.duration_seconds from payments p left join tariffs t on t.id = p.tariff_id where p.id = ? for update of p`,
      [r.paymentId],
    );
    if (!p) throw notFound('payment_not_found');
    const keyedId = r.idempotencyKey ? refundIdFor(p.id, r.idempotencyKey) : undefined;
    // Under the payment's lock, so two deliveries of one key cannot both book.
    const [earlier] = keyedId ? await q(`select * from payment_refunds where id = ?`, [keyedId]) : [];
    if (earlier) return replayOf(q, p as Row, earlier as Row, r);
    if (p.status !== 'succeeded' || p.provider === 'free')
      throw new HttpError(
        409,
        'payment_not_refundable',
        `a ${p.provider} payment in status ${p.status} cannot be refunded`,
      );
    const left = cents(p.amount) - cents(p.refunded_amount);
    const amount = r.amount ?? (left / 100).toFixed(2);
    if (left <= 0)
      throw new HttpError(409, 'refund_exceeds_payment', 'this payment has been refunded in full');
    if (cents(amount) > left)
      throw new HttpError(
        409,
        'refund_exceeds_payment',
        `at most ${(left / 100).toFixed(2)} ${p.currency} is left to refund`,
      );
    const to = p.provider === 'balance' ? 'balance' : (r.to ?? 'provider');
    if (p.provider === 'stars' && to === 'balance')
      throw invalidField('to', 'Stars go back as Stars: a Stars payment is refunded to the provider');
    if (p.provider === 'stars' && cents(amount) !== left)
      throw invalidField('amount', 'Telegram refunds a whole Stars charge: leave amount out');
    if (p.purpose === 'topup' && to === 'balance')
      throw invalidField('to', 'a top-up is already on the balance: refund it to the provider');
    const refundId = await reserveRefund(q, {
      paymentId: p.id,
      amount,
      currency: p.currency,
      destination: to,
      kind: 'admin',
      reason: r.reason,
      id: keyedId,
    });
    if (p.purpose === 'topup') await takeBackTopUp(q, p as Row, amount, refundId);
    const shortened = await shortenAccess(q, p as Row, cents(amount) / cents(p.amount));
    return {
      refundId,
      paymentId: p.id,
      amount,
      currency: p.currency,
      to,
      subscriptionId: shortened?.id ?? null,
      accessExpiresAt: shortened ? new Date(shortened.expires_at).toISOString() : null,
    };
  });
}

/** The refund a repeated idempotency key booked before; the same key with other fields is refused. */
async function replayOf(
  q: Parameters<typeof appendEntry>[0],
  p: Row,
  earlier: Row,
  r: AdminRefundRequest,
): Promise<BookedRefund> {
  const sameAmount = r.amount === undefined || cents(r.amount) === cents(earlier.amount);
  const sameTo = p.provider === 'balance' || (r.to ?? 'provider') === earlier.destination;
  if (!sameAmount || !sameTo)
    throw new HttpError(409, 'idempotency_key_reused', 'this Idempotency-Key booked another refund');
  const [sub] = p.subscription_id
    ? await q(`select id, expires_at from subscriptions where id = ?`, [p.subscription_id])
    : [];
  return {
    refundId: earlier.id,
    paymentId: p.id,
    amount: Number(earlier.amount).toFixed(2),
    currency: earlier.currency,
    to: earlier.destination,
    subscriptionId: sub?.id ?? null,
    accessExpiresAt: sub ? new Date(sub.expires_at).toISOString() : null,
    replayed: true,
  };
}

/**
 * The refunded share of what the top-up credited comes off the balance: the amount itself for a card top-up,
 * the roubles a Stars top-up credited (Stars are refunded whole, so all of them).
 */
async function takeBackTopUp(q: Parameters<typeof appendEntry>[0], p: Row, amount: string, refundId: string) {
  const credited = p.credit_amount ?? p.amount;
  const takeBack = (Math.round((cents(credited) * cents(amount)) / cents(p.amount)) / 100).toFixed(2);
  try {
    await appendEntry(q, {
      userId: p.user_id,
      amount: `-${takeBack}`,
      currency: p.credit_currency ?? p.currency,
      reason: 'admin_refund',
      reference: `topup-back-${refundId}`,
      paymentId: p.id,
    });
  } catch (err) {
    if (isOverdraft(err))
      throw new HttpError(409, 'balance_spent', 'the balance no longer holds this top-up; refund less');
    throw err;
  }
}

/** The refunded share of the payment's time comes off the access it paid for (not below now). */
async function shortenAccess(
  q: Parameters<typeof appendEntry>[0],
  p: Row,
  share: number,
): Promise<Row | undefined> {
  if (!p.subscription_id || !p.duration_seconds) return undefined;
  const [sub] = await q(
    `update subscriptions set expires_at = greatest(now(), expires_at - make_interval(secs => ?)), updated_at = now()
      where id = ? and status = 'active' returning id, expires_at`,
    [Math.round(Number(p.duration_seconds) * share), p.subscription_id],
  );
  return sub;
}

/** Pays the booked refund out through its workflow (`refund-<id>`); false when it is still in progress. */
export async function payOutRefund(deps: ApiDeps, booked: BookedRefund): Promise<boolean> {
  const run = (deps.temporal as Client).workflow.execute<typeof refundWorkflow>(REFUND_WORKFLOW_TYPE, {
    workflowId: refundWorkflowId(booked.refundId),
    taskQueue: queueOf(deps),
    args: [{ refundId: booked.refundId, subscriptionId: booked.subscriptionId }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return (
    (await within(
      run.then(() => true),
      WAIT_MS,
    )) ?? false
  );
}

/** Stages in which the purchase workflow still decides what the payment buys (or refunds it itself). */
const OWNED_STAGES = new Set(['CREATING_PAYMENT', 'AWAITING_PAYMENT', 'PROVISIONING', 'REFUNDING']);

/**
 * A payment whose purchase has not granted yet belongs to that purchase: a refund booked beside it could be
 * followed by the grant (access nobody paid for) or by the purchase's own refund. 409 `purchase_in_progress`.
 */
export async function refuseWhilePurchaseOwnsPayment(deps: ApiDeps, paymentId: string): Promise<void> {
  const handle = deps.temporal.workflow.getHandle(purchaseWorkflowId(paymentId));
  const running = await handle
    .describe()
    .then((d) => d.status.name === 'RUNNING')
    .catch((err) => {
      if (err instanceof WorkflowNotFoundError) return false; // a payment made outside a purchase workflow
      throw err;
    });
  if (!running) return;
  const { stage } = (await handle.query(purchaseStatusQuery)) as PurchaseStatus;
  if (OWNED_STAGES.has(stage))
    throw new HttpError(
      409,
      'purchase_in_progress',
      `its purchase is in stage ${stage}: wait, or skip it to refund with POST /admin/purchases/${paymentId}/refund`,
    );
}
