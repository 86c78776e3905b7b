import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUES } from '../infra/temporal';
import { toAmountString, toMinorUnits } from '../infra/yookassa/amount';
import {
  type PaymentNotice,
  STARS_REFUND_WORKFLOW_TYPE,
  type StarsRefundInput,
  starsRefundWorkflowId,
} from '../workflows/purchase-messages';
import type { starsRefundWorkflow } from '../workflows/stars-refund';
import { sqlOne } from './db';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';
import { raiseMoneyAlarm, signalPurchase } from './purchase-signal';
import { confirmRecurringCharge } from './stars-subscription';
import { telegramId } from './schemas';

export const starsConfirmBody = z.object({
  telegram_id: telegramId,
  payload: z.string().min(1).max(128).describe('the invoice payload: our payment_id'),
  telegram_payment_charge_id: z.string().min(1).max(255),
  total_amount: z.number().int().positive().describe('Stars paid (XTR has no minor units)'),
  // Stars subscriptions (issue 13): successful_payment's own fields, forwarded as Telegram sent them.
  is_recurring: z
    .boolean()
    .optional()
    .describe('successful_payment.is_recurring: a payment of a Stars subscription'),
  is_first_recurring: z
    .boolean()
    .optional()
    .describe(
      'successful_payment.is_first_recurring: the first payment of a subscription (it grants like any Stars payment); a recurring one without it renews the access by one period',
    ),
  subscription_expiration_date: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('successful_payment.subscription_expiration_date (unix seconds): when Telegram charges next'),
});
export type StarsConfirmation = z.infer<typeof starsConfirmBody>;

export const starsConfirmed = z.object({
  status: z
    .enum(['accepted', 'refunding'])
    .describe(
      '`accepted`: handed to the purchase, which checks the charge with Telegram before granting; `refunding`: the purchase is closed, so the charge is refunded',
    ),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODES: Record<number, string> = { 404: 'payment_not_found', 409: 'already_paid' };
type Deps = Pick<ApiDeps, 'orm' | 'temporal' | 'logger' | 'metrics' | 'config'>;
const PAYMENT = `select p.*, u.telegram_id from payments p join users u on u.id = p.user_id where p.id = ?`;

/**
 * `successful_payment` forwarded by the bot. This is a claim, not a proof: the purchase workflow checks the
 * charge with Telegram (getStarTransactions) before it grants anything. A charge that can buy nothing (its
 * purchase is closed, or the payment was already paid by another charge) is refunded automatically.
 */
export async function confirmStarsPayment(
  deps: Deps,
  c: StarsConfirmation,
): Promise<z.infer<typeof starsConfirmed>> {
  const log = deps.logger.child({ paymentId: c.payload, chargeId: c.telegram_payment_charge_id });
  const refuse = (status: number, reason: string, field: string | undefined, message: string): never => {
    log.error(
      { reason, telegramId: c.telegram_id, totalAmount: c.total_amount },
      `stars payment refused: ${message}`,
    );
    deps.metrics.starsConfirmRejections.inc({ reason });
    throw new HttpError(status, CODES[status] ?? 'validation_failed', message, field);
  };

  const payment = UUID.test(c.payload) ? await sqlOne(deps.orm, PAYMENT, [c.payload]) : undefined;
  if (!payment) return refuse(404, 'unknown_payment', 'payload', 'no payment with this payload');
  if (payment.provider !== 'stars')
    return refuse(422, 'not_stars', 'payload', 'this payment is not a Stars payment');
  if (String(payment.telegram_id) !== c.telegram_id) {
    return refuse(422, 'telegram_id_mismatch', 'telegram_id', 'the payment belongs to another user');
  }
  if (toMinorUnits(toAmountString(payment.amount)) !== BigInt(c.total_amount) * 100n) {
    return refuse(422, 'amount_mismatch', 'total_amount', `expected ${payment.amount} XTR`);
  }
  const refund = (reason: string) =>
    startStarsRefund(deps, {
      telegramId: c.telegram_id,
      chargeId: c.telegram_payment_charge_id,
      paymentId: payment.id,
      reason,
    });
  // Telegram's next charge of a Stars subscription: same payload, new charge id, one more period (or a refund).
  // Only once the first charge is booked: a first payment forwarded without is_first_recurring still just pays.
  const paidBy = payment.telegram_payment_charge_id as string | null;
  if (
    c.is_recurring &&
    !c.is_first_recurring &&
    payment.save_payment_method &&
    paidBy &&
    paidBy !== c.telegram_payment_charge_id
  )
    return confirmRecurringCharge(deps, log, payment, c, refund);
  if (paidBy && paidBy !== c.telegram_payment_charge_id) {
    // Only a charge Telegram confirmed is ever written here, so this one is a second charge: give it back.
    deps.metrics.paymentsOrphaned.inc({ provider: 'stars' });
    await refund('second charge for one payment');
    return refuse(
      409,
      'second_charge',
      'telegram_payment_charge_id',
      'this payment was already paid with another charge: this one is refunded automatically',
    );
  }

  const notice: PaymentNotice = {
    providerPaymentId: payment.id,
    status: 'succeeded',
    amount: payment.amount,
    currency: 'XTR',
    telegramChargeId: c.telegram_payment_charge_id,
    ...(c.subscription_expiration_date
      ? { starsSubscriptionExpiresAt: new Date(c.subscription_expiration_date * 1000).toISOString() }
      : {}),
  };
  if ((await signalPurchase(deps, payment.id, notice)) === 'signalled') {
    log.info('stars payment claim handed to its purchase');
    return { status: 'accepted' };
  }
  // The purchase closed: re-read, since it may have closed just now after booking this very charge.
  const now = await sqlOne(deps.orm, PAYMENT, [payment.id]);
  if (now?.telegram_payment_charge_id === c.telegram_payment_charge_id) {
    log.info('stars payment repeated after its purchase finished');
    return { status: 'accepted' };
  }
  raiseMoneyAlarm(
    deps,
    log,
    'stars',
    { status: now?.status },
    'stars paid but the purchase is closed: refunding the charge',
  );
  await refund('the purchase was closed when the charge arrived');
  return { status: 'refunding' };
}

/** Durable and once per charge: the workflow id is the charge id. */
async function startStarsRefund(deps: Deps, input: StarsRefundInput): Promise<void> {
  try {
    await deps.temporal.workflow.start<typeof starsRefundWorkflow>(STARS_REFUND_WORKFLOW_TYPE, {
      workflowId: starsRefundWorkflowId(input.chargeId),
      taskQueue: deps.config.PURCHASES_TASK_QUEUE ?? TASK_QUEUES.purchases,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
