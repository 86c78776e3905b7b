import { patched } from '@temporalio/workflow';

/** Behaviour changes a purchase makes midway; each once had its own patched() call at the point it applies. */
export type PurchaseChange =
  | 'verify-cancel-at-provider'
  | 'add-client-on-another-node'
  | 'spare-client-best-effort'
  | 'late-settle-by-purpose'
  | 'referral-reward';

/** Answers "does this purchase have that change?" at the point the change applies. */
export type HasChange = (change: PurchaseChange) => boolean;

/**
 * Decided in the purchase's first workflow task, before any local activity: a patch marker recorded right
 * after a local activity in the same workflow task makes a status query made while it runs fail
 * (TMPRL1100 "Non-deprecated patch marker encountered ... but there is no corresponding change command";
 * 11 of 30 purchases queried while running, test/api/status-query.test.ts). Purchases begun before this
 * still make each change's own patched() call, at the point they made it, so their histories replay.
 * A new midway change joins the list: its marker would meet the same failure.
 */
export function purchaseChanges(): HasChange {
  const allAtStart = patched('purchase-changes-at-start');
  return (change) => allAtStart || patched(change);
}
