/** How a cancel's refund is worked out (pure: used by the API to answer 409 up front and by the activity). */

export type RefundPolicy = 'prorated' | 'full' | 'none';

/** One payment that paid for the access, newest first. */
export interface PaidPeriod {
  paymentId: string;
  provider: string;
  amount: string;
  refundedAmount: string;
  currency: string;
  durationSeconds: number;
  /** Paid within REFUND_WINDOW of now. */
  inWindow: boolean;
}

export interface PlannedRefund {
  paymentId: string;
  amount: string;
  currency: string;
  destination: 'provider' | 'balance';
}

const cents = (v: string) => Math.round(Number(v) * 100);
const money = (c: number) => (c / 100).toFixed(2);

/**
 * The unused time belongs to the newest payments: each in-window payment, newest first, gets back its
 * unused share (prorated) or all of it (full). A payment outside the window ends the refund: older time is
 * not refunded. Stars are refunded whole or not at all (Telegram refunds a charge, never part of one).
 */
export function planCancelRefunds(
  periods: PaidPeriod[],
  remainingSeconds: number,
  policy: RefundPolicy,
): PlannedRefund[] {
  if (policy === 'none') return [];
  const planned: PlannedRefund[] = [];
  let remaining = Math.max(0, remainingSeconds);
  for (const p of periods) {
    if (!p.inWindow || remaining <= 0) break;
    const unused = Math.min(remaining, p.durationSeconds);
    remaining -= unused;
    const left = cents(p.amount) - cents(p.refundedAmount);
    const share =
      policy === 'full' ? left : Math.min(left, Math.floor((cents(p.amount) * unused) / p.durationSeconds));
    if (share <= 0) continue;
    if (p.provider === 'stars' && share !== left) continue;
    planned.push({
      paymentId: p.paymentId,
      amount: money(share),
      currency: p.currency,
      destination: p.provider === 'balance' ? 'balance' : 'provider',
    });
  }
  return planned;
}

export const totalOf = (refunds: Array<{ amount: string }>) =>
  money(refunds.reduce((sum, r) => sum + cents(r.amount), 0));
