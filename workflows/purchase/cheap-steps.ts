import { patched } from '@temporalio/workflow';
import {
  lifetime,
  lifetimeLocal,
  purchaseDatabase,
  purchaseDatabaseLocal,
  referrals,
  referralsLocal,
} from '../activity-options';

/**
 * Issue 17: the purchase's cheap steps on its happy path (record the payment, look for an access to extend,
 * pick a node, activate, hand the end to the lifetime, observe the key latency, offer the referral reward) run
 * as local activities, which cost no round trip through the server's activity queue. Purchases recorded before this patch scheduled them
 * as remote activities; replaying them takes the same branch, so their histories still match.
 */
export const LOCAL_CHEAP_STEPS_PATCH = 'purchase-cheap-steps-local';

export function cheapSteps() {
  return patched(LOCAL_CHEAP_STEPS_PATCH)
    ? { db: purchaseDatabaseLocal, lifetime: lifetimeLocal, referrals: referralsLocal }
    : { db: purchaseDatabase, lifetime, referrals };
}
