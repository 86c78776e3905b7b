import { condition, sleep } from '@temporalio/workflow';
import { purchaseDatabase as db, refunds, starsCheck } from '../activity-options';
import { errorMessage, type Purchase } from './state';

/**
 * Telegram may take the Stars in the seconds around the deadline (pre-checkout refuses the last
 * 2 minutes, but an approved checkout can still complete). The purchase listens this long after it expired;
 * a charge that finds the purchase closed is refunded by the API (starsRefundWorkflow).
 */
export const STARS_GRACE_MS = 10 * 60_000;
/** A charge Telegram does not list yet is looked up again after these pauses before it is set aside. */
const STARS_RECHECK_MS = [1_000, 3_000, 6_000];

async function verifyStarCharge(p: Purchase, chargeId: string) {
  for (const pause of [...STARS_RECHECK_MS, 0]) {
    const check = await starsCheck.verifyStarCharge({ paymentId: p.input.paymentId, chargeId });
    if (check.verdict !== 'unknown_charge' || pause === 0) return check;
    await sleep(pause); // Telegram may list a fresh charge a moment after the update
  }
  throw new Error('unreachable');
}

/** Each stray charge refunded once; a refund Telegram refuses alerts ops. */
async function refundStrays(p: Purchase): Promise<void> {
  for (const stray of p.strayCharges.splice(0)) {
    if (p.refundedCharges.includes(stray.chargeId)) continue;
    p.refundedCharges.push(stray.chargeId);
    try {
      await refunds.refundStarCharge({
        telegramId: stray.payerId,
        chargeId: stray.chargeId,
        paymentId: p.input.paymentId,
        reason: stray.why,
      });
    } catch (err) {
      await db.raiseOpsAlert({
        kind: 'stars_refund_failed',
        detail: `purchase ${p.input.paymentId}: charge ${stray.chargeId}: ${errorMessage(err)}`,
      });
    }
  }
}

function isKnownCharge(p: Purchase, chargeId: string): boolean {
  return chargeId === (p.settled?.telegramChargeId ?? null) || p.rejectedCharges.includes(chargeId);
}

/**
 * Checks each claimed Stars charge with Telegram (getStarTransactions): the first genuine one, of the right
 * amount and from this user, pays for this purchase. A made-up charge id buys nothing and alerts ops.
 */
export async function checkStarClaims(p: Purchase): Promise<void> {
  for (let claim = p.starClaims.shift(); claim; claim = p.starClaims.shift()) {
    const chargeId = claim.telegramChargeId ?? '';
    if (isKnownCharge(p, chargeId)) continue;
    if (p.settled) {
      p.strayCharges.push({ chargeId, payerId: p.input.telegramId, why: 'second charge for one purchase' });
      continue;
    }
    const check = await verifyStarCharge(p, chargeId);
    if (check.verdict === 'verified') {
      p.settled = claim;
      continue;
    }
    p.rejectedCharges.push(chargeId);
    p.status.lastError = `stars charge ${chargeId}: ${check.verdict}, not granted`;
    // Real Stars from the wrong payer or of the wrong amount bought nothing: they go back to whoever paid.
    if (check.payerId)
      p.strayCharges.push({ chargeId, payerId: check.payerId, why: `charge ${check.verdict}` });
    await db.raiseOpsAlert({
      kind: 'stars_charge_unverified',
      detail: `purchase ${p.input.paymentId}: charge ${chargeId} ${check.verdict}; not granted`,
    });
  }
  await refundStrays(p); // money that bought nothing goes back now, not when the purchase closes
}

/** After the expiry: one more window for a Stars charge in flight. True when one was verified. */
export async function listenForLateStars(p: Purchase): Promise<boolean> {
  const until = Date.now() + STARS_GRACE_MS;
  while (!p.settled && Date.now() < until) {
    if (!(await condition(() => p.starClaims.length > 0, Math.max(1, until - Date.now())))) break;
    await checkStarClaims(p);
  }
  return p.settled !== undefined;
}

/** Second charges, late charges and charges of the wrong payer: each refunded once (Telegram's word counts). */
export async function refundStrayCharges(p: Purchase): Promise<void> {
  for (const claim of p.starClaims.splice(0)) {
    const chargeId = claim.telegramChargeId ?? '';
    if (isKnownCharge(p, chargeId)) continue;
    p.strayCharges.push({ chargeId, payerId: p.input.telegramId, why: 'charge after the purchase closed' });
  }
  await refundStrays(p);
}
