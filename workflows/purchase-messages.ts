import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

// Shared by the workflow, the API and the tests: names here are part of the operator contract.

/**
 * `balance`: paid from the user's own ledger (activities/balance.ts), settled the moment it is created.
 * `free`: a 100 % promo code, recorded as a zero-amount payment no provider is asked about.
 */
export type Provider = 'yookassa' | 'stars' | 'balance' | 'free';
/** What a payment buys (payments.purpose). Only `subscription` is sold today; the others arrive with their features. */
export type PaymentPurpose = 'subscription' | 'topup' | 'gift' | 'traffic_pack' | 'upgrade';

export type PurchaseStage =
  | 'CREATING_PAYMENT'
  | 'AWAITING_PAYMENT'
  | 'PROVISIONING'
  | 'NOTIFYING'
  | 'COMPLETED'
  | 'CANCELED'
  | 'EXPIRED'
  | 'REFUNDING'
  | 'REFUNDED'
  | 'FAILED';

export interface TariffSnapshot {
  id: number;
  name: string;
  price: string; // "199.00"
  currency: string;
  durationSeconds: number;
  starPrice?: number | null;
  location?: string | null;
}

export interface PurchaseInput {
  paymentId: string; // our uuid; also the provider idempotence key
  userId: string;
  telegramId: string;
  language: string;
  provider: Provider;
  tariff: TariffSnapshot;
  paymentTimeoutMs: number;
  remindBeforeMs: number[];
  nodeWaitLimitMs: number;
  /** Gifts: GIFT_CLAIM_WINDOW, how long the gift stays claimable before it is refunded. */
  giftClaimWindowMs?: number;
  /** What the payment buys; absent (histories before purposes) means `subscription`. `gift`: the buyer gets a
   * gift link instead of access (workflows/gift.ts). */
  purpose?: PaymentPurpose;
  /** Top-ups: the amount asked (the tariff snapshot is a placeholder then). */
  amount?: string;
  /** The buyer consented to auto-renew: by card, YooKassa keeps the card (save_payment_method); by Stars, the
   * invoice is a Stars subscription (createInvoiceLink with subscription_period, activities/stars-subscriptions.ts). */
  savePaymentMethod?: boolean;
  /** One recurring charge of a Stars subscription: it pays for one more period (api/stars-subscription.ts). */
  starsRenewal?: StarsRenewalCharge;
  /** An automatic renewal of one period of one access (workflows/subscription/auto-renew.ts). */
  autoRenew?: AutoRenewCharge;
}

/** One auto-renew attempt: which access, which period (its end), which try, and the saved card if by card. */
export interface AutoRenewCharge {
  subscriptionId: string;
  periodEnd: string;
  attempt: number;
  /** YooKassa's id of the saved method (card charges only). */
  paymentMethodId?: string;
}

/** A Stars subscription's recurring charge: the subscription (its first payment) and Telegram's charge id. */
export interface StarsRenewalCharge {
  subscriptionPaymentId: string;
  chargeId: string;
}

/** What the API hands the bot: where to pay. */
export interface PaymentLink {
  paymentId: string;
  providerPaymentId: string | null;
  confirmationUrl: string | null;
  amount: string;
  currency: string;
  createdAt: string;
  expiresAt: string;
  /** `succeeded` for a payment settled at creation (from the balance). */
  status: 'pending' | 'succeeded';
  /** A saved card charged at creation (auto-renew): the provider's final answer, nothing to wait for. */
  settled?: PaymentNotice;
}

/** A provider's state, as re-read from the provider (never trusted from a webhook body). */
export interface PaymentNotice {
  providerPaymentId: string;
  status: 'pending' | 'waiting_for_capture' | 'succeeded' | 'canceled';
  amount: string;
  currency: string;
  cancellationReason?: string | null;
  telegramChargeId?: string | null; // Stars only
  /** Stars subscriptions: Telegram's subscription_expiration_date (ISO), when it charges next. */
  starsSubscriptionExpiresAt?: string | null;
  /** YooKassa kept the card (save_payment_method): its id and title, for auto-renew. */
  savedMethod?: { id: string; title: string | null };
}

export interface PurchaseStatus {
  stage: PurchaseStage;
  paymentId: string;
  providerPaymentId: string | null;
  telegramId: string;
  nodeId: string | null;
  subscriptionId: string | null;
  expiresAt: string | null;
  lastError: string | null;
}

export const paymentLinkUpdate = defineUpdate<PaymentLink>('paymentLink');
export const paymentNoticeSignal = defineSignal<[PaymentNotice]>('paymentNotice');
export const purchaseStatusQuery = defineQuery<PurchaseStatus>('status');

/** An operator gives up on a paid purchase stuck before its access exists (docs/operations.md §6.1). */
export interface OperatorRefund {
  /** `admin:<token name>` or `tg:<telegram id>`, as audited. */
  admin: string;
  reason: string;
}
/** Honoured only while the purchase is placing its client (stage PROVISIONING, no access yet); first one wins. */
export const operatorRefundSignal = defineSignal<[OperatorRefund]>('operatorRefund');

/** Workflow type names, for clients that start a workflow without importing its code. */
export const PURCHASE_WORKFLOW_TYPE = 'purchaseWorkflow';
export const STARS_REFUND_WORKFLOW_TYPE = 'starsRefundWorkflow';

export const purchaseWorkflowId = (paymentId: string) => `purchase-${paymentId}`;
export const subscriptionWorkflowId = (subscriptionId: string) => `subscription-${subscriptionId}`;

export interface StarsRefundInput {
  telegramId: string;
  chargeId: string;
  /** The payment the charge claimed to pay for, when there is one. */
  paymentId: string | null;
  reason: string;
}

export type StarsRefundResult = 'refunded' | 'already_refunded' | 'not_found';

/** One refund workflow per charge: a charge is refunded at most once however often it is reported. */
export const starsRefundWorkflowId = (chargeId: string) => `stars-refund-${chargeId}`;
