import { WorkflowNotFoundError } from '@temporalio/client';
import type { Logger } from 'pino';
import { type PaymentNotice, paymentNoticeSignal, purchaseWorkflowId } from '../workflows/purchase-messages';
import { raiseQuietly } from '../infra/ops-alerts';
import type { ApiDeps } from './deps';

type Deps = Pick<ApiDeps, 'temporal' | 'metrics'> & Partial<Pick<ApiDeps, 'alerts'>>;

/**
 * Hands a payment notice to its purchase. 'closed' when the purchase is over: the caller then decides whether
 * money is at stake (raiseMoneyAlarm). Any other Temporal error is thrown (the provider retries the delivery).
 */
export async function signalPurchase(
  deps: Deps,
  paymentId: string,
  notice: PaymentNotice,
): Promise<'signalled' | 'closed'> {
  try {
    await deps.temporal.workflow.getHandle(purchaseWorkflowId(paymentId)).signal(paymentNoticeSignal, notice);
    return 'signalled';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'closed';
    throw err;
  }
}

/** Money arrived that no purchase will turn into access: counted (payments_orphaned alerts on it) and logged. */
export function raiseMoneyAlarm(
  deps: Deps,
  log: Logger,
  provider: 'yookassa' | 'stars',
  fields: Record<string, unknown>,
  message: string,
): void {
  deps.metrics.paymentsOrphaned.inc({ provider });
  log.error(fields, message);
  // The admin chat hears of it too: grouped per payment, so each stray payment is one message.
  const paymentId = String(fields.paymentId ?? fields.chargeId ?? '');
  raiseQuietly(
    deps.alerts,
    {
      kind: 'money_alarm',
      key: `money_alarm:${provider}:${paymentId}`,
      detail: `${message} (${provider}${paymentId ? ` ${paymentId}` : ''})`,
    },
    log,
  );
}
