import { type PurchaseSteps, giftSale } from './activity-options';
import type { PurchaseInput } from './purchase-messages';

// The purchase workflow's two hooks for issue 14: kept here so purchase.ts calls one step for each.

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
export async function offerReferralReward(
  input: PurchaseInput,
  referrals: PurchaseSteps['referrals'],
): Promise<void> {
  try {
    await referrals.offerReferralReward({ paymentId: input.paymentId });
  } catch {
    // Retried without a cap above; only a cancelled workflow ends up here.
  }
}
