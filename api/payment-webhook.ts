import { z } from 'zod';
import { sameAmount } from '../infra/yookassa/amount';
import { paymentNotice } from '../infra/yookassa/notice';
import { YooKassaRejectedError, YooKassaUnavailableError } from '../infra/yookassa/errors';
import type { Payment } from '../infra/yookassa/types';
import { type Row, sqlOne } from './db';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';
import { raiseMoneyAlarm, signalPurchase } from './purchase-signal';

/** No NUL (PostgreSQL text cannot hold it); a pattern, so the OpenAPI document says so too. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what it refuses.
const NO_NUL = /^[^\u0000]*$/;

/** What we need of a notification; the rest is ignored, because nothing in the body is trusted. */
export const yookassaNotification = z
  .object({
    type: z.literal('notification'),
    event: z.string().min(1).max(64).regex(NO_NUL, 'must not contain a NUL character'),
    object: z
      .object({
        id: z.string().min(1).max(64).regex(NO_NUL, 'must not contain a NUL character'),
      })
      .passthrough(),
  })
  .passthrough();
export type YooKassaNotification = z.infer<typeof yookassaNotification>;

export type WebhookOutcome =
  | 'signalled'
  | 'not_a_payment_event'
  | 'unknown_at_provider'
  | 'unknown_payment'
  | 'amount_mismatch'
  | 'not_final'
  | 'workflow_closed'
  | 'already_settled';

type Deps = Pick<ApiDeps, 'orm' | 'reads' | 'temporal' | 'yookassa' | 'logger' | 'metrics'>;

/**
 * One YooKassa notification: re-read the payment from YooKassa, match it to our payment, check the money,
 * and signal the purchase with what YooKassa said (never with what the body claimed). Resolves with the
 * outcome for every case YooKassa should stop redelivering; throws HttpError(503) when it should retry.
 */
export async function handleYooKassaNotification(
  deps: Deps,
  n: YooKassaNotification,
): Promise<WebhookOutcome> {
  const log = deps.logger.child({ event: n.event, providerPaymentId: n.object.id });
  if (!n.event.startsWith('payment.')) {
    log.info('notification ignored: not a payment event');
    return 'not_a_payment_event';
  }
  // One lookup serves both the redelivery check and the match after the re-read.
  const booked = await paymentByProviderId(deps, n.object.id);
  if (booked && SETTLED_BY_EVENT[n.event]?.includes(String(booked.status))) {
    // A redelivery (YooKassa repeats until it gets a 200): our books already hold this very outcome, so a
    // re-read could change nothing. A forged copy naming a settled payment gains nothing either.
    log.debug('notification repeats an outcome already booked');
    return 'already_settled';
  }
  const actual = await reread(deps, n.object.id);
  if (!actual) {
    deps.metrics.webhookRejections.inc({ reason: 'unknown_at_provider' });
    log.warn('notification names a payment YooKassa does not know');
    return 'unknown_at_provider';
  }
  const ours = booked && actual.id === n.object.id ? booked : await findOurPayment(deps, actual);
  if (!ours) {
    deps.metrics.webhookRejections.inc({ reason: 'unknown_payment' });
    log.warn({ status: actual.status }, 'notification for a payment we never created');
    return 'unknown_payment';
  }
  if (!sameMoney(actual, ours)) {
    deps.metrics.webhookRejections.inc({ reason: 'amount_mismatch' });
    log.error(
      {
        paymentId: ours.id,
        expected: { value: ours.amount, currency: ours.currency },
        actual: actual.amount,
      },
      'payment amount differs from what we asked: not signalled',
    );
    return 'amount_mismatch';
  }
  if (actual.status !== 'succeeded' && actual.status !== 'canceled') {
    // Whatever the body claimed, nothing is decided yet: the purchase keeps waiting (and polling).
    log.info(
      { paymentId: ours.id, status: actual.status },
      'payment not final at YooKassa: nothing to signal',
    );
    return 'not_final';
  }
  const notice = paymentNotice(actual);
  if ((await signalPurchase(deps, ours.id, notice)) === 'closed') {
    const unpaid = actual.status === 'succeeded' && !['succeeded', 'refunded'].includes(ours.status);
    if (unpaid) {
      raiseMoneyAlarm(
        deps,
        log,
        'yookassa',
        { paymentId: ours.id, status: ours.status },
        'MONEY ALARM: paid but the purchase is over; refund by hand',
      );
    } else {
      log.info({ paymentId: ours.id, status: actual.status }, 'notification after the purchase finished');
    }
    return 'workflow_closed';
  }
  log.info({ paymentId: ours.id, status: actual.status }, 'payment notice signalled');
  return 'signalled';
}

/**
 * Final outcomes in our books (set only from a re-read answer), by the event that reports each; anything else
 * goes the whole way.
 */
const SETTLED_BY_EVENT: Record<string, string[]> = {
  'payment.succeeded': ['succeeded', 'refunded'],
  'payment.canceled': ['canceled'],
};

async function reread(deps: Deps, id: string): Promise<Payment | null> {
  if (!deps.yookassa)
    throw new HttpError(503, 'payment_provider_unavailable', 'card payments are not configured');
  try {
    return await deps.yookassa.getPayment(id);
  } catch (err) {
    if (err instanceof YooKassaRejectedError && err.status === 404) return null;
    // Unreachable, or our credentials refused: either way YooKassa must redeliver later.
    deps.logger.error({ err: (err as Error).message, providerPaymentId: id }, 'cannot re-read the payment');
    if (err instanceof YooKassaUnavailableError || err instanceof YooKassaRejectedError) {
      throw new HttpError(503, 'payment_provider_unavailable', 'cannot verify the payment now');
    }
    throw err;
  }
}

const paymentByProviderId = (deps: Deps, providerPaymentId: string) =>
  deps.reads.one<Row>(
    `select id, amount, currency, status from payments where provider = 'yookassa' and provider_payment_id = $1`,
    [providerPaymentId],
  );

/** By the id YooKassa gave; falling back to our id in the metadata, in case the webhook beat our own write. */
async function findOurPayment(deps: Deps, actual: Payment): Promise<Row | undefined> {
  const byProviderId = await paymentByProviderId(deps, actual.id);
  if (byProviderId) return byProviderId;
  const ourId = actual.metadata?.purchase_id;
  if (!ourId || !/^[0-9a-f-]{36}$/i.test(ourId)) return undefined;
  return sqlOne(
    deps.orm,
    `select id, amount, currency, status from payments
      where id = ? and provider = 'yookassa' and (provider_payment_id is null or provider_payment_id = ?)`,
    [ourId, actual.id],
  );
}

function sameMoney(actual: Payment, ours: Row): boolean {
  return sameAmount(actual.amount.value, ours.amount) && actual.amount.currency === ours.currency;
}
