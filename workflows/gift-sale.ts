import { proxyActivities } from '@temporalio/workflow';
import type { createGiftActivities } from '../activities/gifts';
import type { createReferralActivities } from '../activities/referrals';
import type { PurchaseInput } from './purchase-messages';

// The purchase workflow's two hooks for issue 14: kept here so purchase.ts calls one step for each.

const giftSale = proxyActivities<ReturnType<typeof createGiftActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 20 },
});
const referrals = proxyActivities<ReturnType<typeof createReferralActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});

const DEFAULT_CLAIM_WINDOW_MS = 30 * 86_400_000;

/** Paid gift: the gift row and its `gift-<hash>` workflow (which sends the link and ends in a claim or a refund). */
export function sellGift(input: PurchaseInput): Promise<{ giftId: string; workflowId: string }> {
  return giftSale.createGift({
    paymentId: input.paymentId,
    claimWindowMs: input.giftClaimWindowMs ?? DEFAULT_CLAIM_WINDOW_MS,
    nodeWaitLimitMs: input.nodeWaitLimitMs,
  });
}

/** The referrer's reward for a first payment; a failure here never touches the purchase the user paid for. */
export async function offerReferralReward(input: PurchaseInput): Promise<void> {
  try {
    await referrals.offerReferralReward({ paymentId: input.paymentId });
  } catch {
    // Retried without a cap above; only a cancelled workflow ends up here.
  }
}
