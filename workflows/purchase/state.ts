import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { type PurchaseSteps, telegram } from '../activity-options';
import type { Notification } from '../notification-messages';
import type {
  OperatorRefund,
  PaymentLink,
  PaymentNotice,
  PurchaseInput,
  PurchaseStage,
  PurchaseStatus,
} from '../purchase-messages';
import { stageAttributes } from '../stage';
import { purchaseDetails } from '../summaries';
import type { HasChange } from './changes';

/** A Stars charge to give back, to whoever paid it. */
export interface StrayCharge {
  chargeId: string;
  payerId: string;
  why: string;
}

/** Everything one purchase knows; each step of workflows/purchase.ts reads and moves it. */
export interface Purchase {
  readonly input: PurchaseInput;
  /** The proxies of its own quick steps: local activities, or scheduled ones for purchases begun before those. */
  readonly steps: PurchaseSteps;
  /** The behaviour changes this purchase has (./changes.ts); older histories replay without them. */
  readonly has: HasChange;
  /** What the status query answers. */
  readonly status: PurchaseStatus;
  link?: PaymentLink;
  linkError?: string;
  /** The failure type the API gets for a link that could not be made (default: provider unavailable). */
  linkErrorType?: string;
  /** The first final payment state (succeeded or canceled); nothing changes it after. */
  settled?: PaymentNotice;
  /** Stars: the bot's word is a claim; Telegram's transaction list is the proof (see ./stars.ts). */
  readonly verifiesStars: boolean;
  readonly starClaims: PaymentNotice[];
  readonly strayCharges: StrayCharge[];
  readonly rejectedCharges: string[];
  readonly refundedCharges: string[];
  /** An operator's "skip to refund" (operatorRefundSignal); placement gives up at its next step. */
  operatorRefund?: OperatorRefund;
}

export function newPurchase(
  input: PurchaseInput,
  verifiesStars: boolean,
  steps: PurchaseSteps,
  has: HasChange,
): Purchase {
  return {
    input,
    steps,
    has,
    status: {
      stage: 'CREATING_PAYMENT',
      paymentId: input.paymentId,
      providerPaymentId: null,
      telegramId: input.telegramId,
      nodeId: null,
      subscriptionId: null,
      expiresAt: null,
      lastError: null,
    },
    verifiesStars,
    starClaims: [],
    strayCharges: [],
    rejectedCharges: [],
    refundedCharges: [],
  };
}

/** Every stage change is visible to ops as search attributes ("stuck in X for longer than Y"). */
export function enterStage(p: Purchase, stage: PurchaseStage): void {
  p.status.stage = stage;
  upsertSearchAttributes(
    stageAttributes(stage, {
      telegramId: p.input.telegramId,
      paymentId: p.input.paymentId,
      nodeId: p.status.nodeId,
    }),
  );
  setCurrentDetails(purchaseDetails(stage)); // the Temporal UI: what this purchase waits for now
}

/** A payment notice (webhook, poll or settlement). Stars successes are only claims until verified. */
export function accept(p: Purchase, notice: PaymentNotice): void {
  if (p.verifiesStars && notice.status === 'succeeded') {
    p.starClaims.push(notice);
    return;
  }
  // First final state wins: duplicates and stale reorderings change nothing.
  if (p.settled || (notice.status !== 'succeeded' && notice.status !== 'canceled')) return;
  if (p.status.providerPaymentId && notice.providerPaymentId !== p.status.providerPaymentId) return;
  p.settled = notice;
}

/** The one way a purchase tells its user something. */
export async function notify(
  p: Purchase,
  message: Omit<Notification, 'telegramId' | 'language'>,
): Promise<void> {
  try {
    await telegram().notify({ ...message, telegramId: p.input.telegramId, language: p.input.language });
  } catch (err) {
    // A user who blocked the bot still gets (or loses) access on time; only the message is lost.
    p.status.lastError = errorMessage(err);
  }
}

export function errorMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}
