import type { RefundPolicy } from '../activities/refund-plan';
import { lifetime, refundBooks as books, refundPayouts as payouts } from './activity-options';

// Cancel with refund and admin refunds: each a short workflow with a deterministic id, so a repeated request
// attaches to the one already running instead of refunding twice.

export interface CancelInput {
  subscriptionId: string;
  refundWindowMs: number;
  policy: RefundPolicy;
}

export interface CancelResult {
  canceled: boolean;
  refundedAmount: string;
}

/** One per access (`cancel-<subscription id>`): end it now, pay its refunds, have its lifetime revoke the key. */
export async function cancelSubscriptionWorkflow(input: CancelInput): Promise<CancelResult> {
  const plan = await books.prepareCancel(input);
  if (!plan.canceled) return { canceled: false, refundedAmount: '0.00' };
  // The key goes first: the lifetime workflow sees the end moved to now and revokes at once.
  await lifetime.scheduleLifetime({ subscriptionId: input.subscriptionId, endMovedBack: true });
  for (const r of plan.refunds) await payouts.executeRefund({ refundId: r.refundId });
  return { canceled: true, refundedAmount: plan.refundedAmount };
}

/** One per booked refund (`refund-<refund id>`): pays it out; the access it shortened gets its new end. */
export async function refundWorkflow(input: {
  refundId: string;
  subscriptionId: string | null;
}): Promise<void> {
  if (input.subscriptionId)
    await lifetime.scheduleLifetime({ subscriptionId: input.subscriptionId, endMovedBack: true });
  await payouts.executeRefund({ refundId: input.refundId });
}

export const cancelWorkflowId = (subscriptionId: string) => `cancel-${subscriptionId}`;
export const refundWorkflowId = (refundId: string) => `refund-${refundId}`;
export const CANCEL_SUBSCRIPTION_WORKFLOW_TYPE = 'cancelSubscriptionWorkflow';
export const REFUND_WORKFLOW_TYPE = 'refundWorkflow';
