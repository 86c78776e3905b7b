import { condition, executeChild, ParentClosePolicy } from '@temporalio/workflow';
import { autoRenewBooks, telegram } from '../activity-options';
import type { purchaseWorkflow, PurchaseResult } from '../purchase';
import { PURCHASE_WORKFLOW_TYPE, type PurchaseInput, purchaseWorkflowId } from '../purchase-messages';
import type { SubscriptionInput } from '../subscription-messages';

// Auto-renew, one period of one access (issue 13). At AUTO_RENEW_BEFORE before the end: ask the books for a plan
// (balance first, then the saved card), run each planned charge as an ordinary purchase child (purchase-<id>,
// ids derived from access + period + attempt, so a replay or a killed worker never charges twice), stop at the
// first that extends. A failure is retried with backoff up to AUTO_RENEW_RETRIES attempts before the end; the
// user is told once per period with a "pay now" button; if nothing works the access ends on time (the caller's
// revoke). A renewal from anywhere (manual payment, promo days) moves the end, and this period's attempts stop.

export const DEFAULT_AUTO_RENEW_BEFORE_MS = 24 * 3_600_000;
export const DEFAULT_AUTO_RENEW_RETRIES = 3;

/** What the lifetime shares with this step: its input and its current end (moved by signals). */
export interface RenewingAccess {
  readonly input: SubscriptionInput;
  expiresAt: number;
}

/**
 * When each attempt is due: the first at `firstAt`, the gaps doubling, the last at nine tenths of the way to
 * the end (so even the last try leaves time for the user to pay by hand). 3 attempts over 24 h: 0 h, 7.2 h, 21.6 h.
 */
export function attemptTimes(firstAt: number, end: number, attempts: number): number[] {
  if (attempts <= 1 || end <= firstAt) return [firstAt];
  const span = (end - firstAt) * 0.9;
  const units = 2 ** (attempts - 1) - 1;
  return Array.from({ length: attempts }, (_, k) => firstAt + Math.round((span * (2 ** k - 1)) / units));
}

/** Waits until `at` unless the end moves first; true when it moved. */
async function endMovedBefore(a: RenewingAccess, end: number, at: number): Promise<boolean> {
  if (a.expiresAt !== end) return true;
  return Date.now() < at && (await condition(() => a.expiresAt !== end, at - Date.now()));
}

/** One planned charge as a purchase child; what the purchase ended in. */
async function charge(input: PurchaseInput): Promise<PurchaseResult['outcome']> {
  try {
    const result = await executeChild<typeof purchaseWorkflow>(PURCHASE_WORKFLOW_TYPE, {
      workflowId: purchaseWorkflowId(input.paymentId),
      args: [input],
      // A lifetime that continues as new or is reset must never take a charge in flight down with it.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return result.outcome;
  } catch {
    return 'not_created'; // started before (a reset history): the books' charge row tells the next attempt
  }
}

/** The whole auto-renew branch for the period ending at `end`; returns when renewed, skipped or out of tries. */
export async function autoRenew(a: RenewingAccess, end: number): Promise<void> {
  const before = a.input.autoRenewBeforeMs ?? DEFAULT_AUTO_RENEW_BEFORE_MS;
  const retries = a.input.autoRenewRetries ?? DEFAULT_AUTO_RENEW_RETRIES;
  const times = attemptTimes(Math.max(end - before, Date.now()), end, retries);
  const periodEnd = new Date(end).toISOString();
  const subscriptionId = a.input.subscriptionId;
  for (const [attempt, at] of times.entries()) {
    if (await endMovedBefore(a, end, at)) return;
    if (Date.now() >= end) return;
    const plan = await autoRenewBooks.planAutoRenew({ subscriptionId, periodEnd, attempt });
    if (plan.kind === 'skip' || plan.kind === 'done') return;
    let paidWith: string | null = null;
    let lastOutcome = 'no_method';
    if (plan.kind === 'charge') {
      for (const purchase of plan.purchases) {
        lastOutcome = await charge(purchase);
        if (lastOutcome === 'extended' || lastOutcome === 'granted') {
          paidWith = purchase.paymentId;
          break;
        }
      }
    }
    await autoRenewBooks.finishAutoRenewAttempt({
      subscriptionId,
      periodEnd,
      paymentId: paidWith,
      succeeded: paidWith !== null,
      ...(paidWith ? {} : { error: lastOutcome }),
    });
    if (paidWith) return; // the purchase told the user and moved the end (expiryChanged)
    if (attempt === 0) {
      // Once per period (the notification's key is the access and the end): "pay now" while there is time.
      await telegram()
        .notify({
          kind: 'auto_renew_failed',
          telegramId: a.input.telegramId,
          language: a.input.language,
          subscriptionId,
          expiresAt: periodEnd,
          reason: lastOutcome,
        })
        .catch(() => undefined);
    }
  }
}
