import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { toAmountString, toMinorUnits } from '../infra/yookassa/amount';
import { type PaymentNotice, paymentNoticeSignal, purchaseWorkflowId } from '../workflows/purchase-messages';
import { sqlOne } from './db';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';
import { telegramId } from './schemas';

export const starsConfirmBody = z.object({
  telegram_id: telegramId,
  payload: z.string().min(1).max(128).describe('the invoice payload: our payment_id'),
  telegram_payment_charge_id: z.string().min(1).max(255),
  total_amount: z.number().int().positive().describe('Stars paid (XTR has no minor units)'),
});
export type StarsConfirmation = z.infer<typeof starsConfirmBody>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODES: Record<number, string> = { 404: 'payment_not_found', 409: 'already_paid' };
type Deps = Pick<ApiDeps, 'orm' | 'temporal' | 'logger' | 'metrics'>;

/**
 * `successful_payment` forwarded by the bot. The Stars are already taken from the user when this runs, so
 * every refusal is an error log and a metric: an operator has to look (and maybe refund).
 */
export async function confirmStarsPayment(deps: Deps, c: StarsConfirmation): Promise<{ status: 'accepted' }> {
  const log = deps.logger.child({ paymentId: c.payload, chargeId: c.telegram_payment_charge_id });
  const refuse = (status: number, reason: string, field: string | undefined, message: string): never => {
    log.error(
      { reason, telegramId: c.telegram_id, totalAmount: c.total_amount },
      `stars payment refused: ${message}`,
    );
    deps.metrics.starsConfirmRejections.inc({ reason });
    throw new HttpError(status, CODES[status] ?? 'validation_failed', message, field);
  };

  const payment = UUID.test(c.payload)
    ? await sqlOne(
        deps.orm,
        `select p.*, u.telegram_id from payments p join users u on u.id = p.user_id where p.id = ?`,
        [c.payload],
      )
    : undefined;
  if (!payment) return refuse(404, 'unknown_payment', 'payload', 'no payment with this payload');
  if (payment.provider !== 'stars')
    return refuse(422, 'not_stars', 'payload', 'this payment is not a Stars payment');
  if (String(payment.telegram_id) !== c.telegram_id) {
    return refuse(422, 'telegram_id_mismatch', 'telegram_id', 'the payment belongs to another user');
  }
  if (toMinorUnits(toAmountString(payment.amount)) !== BigInt(c.total_amount) * 100n) {
    return refuse(422, 'amount_mismatch', 'total_amount', `expected ${payment.amount} XTR`);
  }

  // Recorded first, so the money is traceable (and refundable) whatever happens to the workflow.
  const stored = await sqlOne(
    deps.orm,
    `update payments set telegram_payment_charge_id = ?
      where id = ? and (telegram_payment_charge_id is null or telegram_payment_charge_id = ?) returning id`,
    [c.telegram_payment_charge_id, payment.id, c.telegram_payment_charge_id],
  );
  if (!stored) {
    deps.metrics.paymentsOrphaned.inc({ provider: 'stars' });
    return refuse(
      409,
      'second_charge',
      'telegram_payment_charge_id',
      'this payment was already paid with another charge: refund this one',
    );
  }

  const notice: PaymentNotice = {
    providerPaymentId: payment.id,
    status: 'succeeded',
    amount: payment.amount,
    currency: 'XTR',
    telegramChargeId: c.telegram_payment_charge_id,
  };
  try {
    await deps.temporal.workflow
      .getHandle(purchaseWorkflowId(payment.id))
      .signal(paymentNoticeSignal, notice);
    log.info('stars payment signalled');
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    if (payment.status === 'succeeded') {
      log.info('stars payment repeated after its purchase finished');
    } else {
      deps.metrics.paymentsOrphaned.inc({ provider: 'stars' });
      log.error(
        { status: payment.status },
        'MONEY ALARM: Stars paid but the purchase workflow is gone; refund by hand',
      );
    }
  }
  return { status: 'accepted' };
}
