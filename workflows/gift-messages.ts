import { defineQuery, defineUpdate } from '@temporalio/workflow';

// Shared by the gift and referral workflows, their activities, the API and the tests (operator contract names).

/** Notification kinds of referrals and gifts (texts in activities/gifts.ts composeReferralGift). */
export type ReferralGiftKind = 'gift_link' | 'gift_claimed' | 'referral_bonus' | 'referral_welcome';

/** A grant of days that is not bought by the receiver: the gift's claimant, a referrer's bonus, a referee's welcome. */
export type DaysGrant =
  | { kind: 'gift'; giftId: string }
  | { kind: 'referral'; rewardId: string }
  | { kind: 'welcome'; rewardId: string };

/** What a grant did: extended the receiver's running access, or made a new one. `done` = granted earlier. */
export interface GrantResult {
  kind: 'activated' | 'extended';
  subscriptionId: string;
  expiresAt: string;
  telegramId: string;
  language: string;
}

/** Not granted yet and no access is running: a new access is needed, on a node in this location. */
export interface GrantNeedsAccess {
  kind: 'needs_access';
  location: string | null;
}

export interface GiftInput {
  giftId: string;
  paymentId: string;
  buyerTelegramId: string;
  language: string;
  /** ISO time after which an unclaimed gift is refunded (GIFT_CLAIM_WINDOW after the payment). */
  claimUntil: string;
  nodeWaitLimitMs: number;
}

export type GiftState = 'UNCLAIMED' | 'CLAIMED' | 'REFUNDING' | 'REFUNDED';

export interface GiftStatus {
  state: GiftState;
  claimedBy: string | null;
  subscriptionId: string | null;
  expiresAt: string | null;
}

export interface GiftClaimRequest {
  telegramId: string;
}

/** Why a claim failed, as the API answers it (409 gift_claimed / own_gift, 410 gift_expired, 404 user_not_found). */
export type GiftClaimRefusal = 'gift_claimed' | 'own_gift' | 'gift_expired' | 'user_not_found';

export interface GiftClaimResult {
  subscriptionId: string;
  expiresAt: string;
}

export const claimGiftUpdate = defineUpdate<GiftClaimResult, [GiftClaimRequest]>('claimGift');
export const giftStatusQuery = defineQuery<GiftStatus>('giftStatus');

/** `gift-<sha256 of the code>`: findable by the code without showing the code itself in the Temporal UI. */
export const giftWorkflowId = (codeHash: string) => `gift-${codeHash}`;
export const GIFT_WORKFLOW_TYPE = 'giftWorkflow';

export interface ReferralRewardInput {
  rewardId: string;
  refereeTelegramId: string;
  nodeWaitLimitMs: number;
}

export interface ReferralRewardResult {
  bonus: GrantResult | null;
  welcome: GrantResult | null;
}

/** One reward workflow per referred user: a second start for the same referee is refused by Temporal. */
export const referralWorkflowId = (refereeTelegramId: string) => `referral-${refereeTelegramId}`;
export const REFERRAL_REWARD_WORKFLOW_TYPE = 'referralRewardWorkflow';
