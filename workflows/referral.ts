import { sleep } from '@temporalio/workflow';
import { purchaseDatabase as db, referrals, telegram } from './activity-options';
import { grantDays } from './gift-access';
import type { DaysGrant, GrantResult, ReferralRewardInput, ReferralRewardResult } from './gift-messages';

/**
 * `referral-<referee telegram id>`: the referrer's REFERRAL_BONUS_DAYS (and the referee's REFERRAL_WELCOME_DAYS)
 * for one referred user's first payment. The reward row makes each grant once; the workflow id makes one run.
 */
export async function referralRewardWorkflow(input: ReferralRewardInput): Promise<ReferralRewardResult> {
  const plan = await referrals.referralRewardPlan({ rewardId: input.rewardId });
  const bonus = plan.bonus ? await grantUntilDone({ kind: 'referral', rewardId: input.rewardId }) : null;
  if (bonus) {
    await notify(bonus, 'referral_bonus', plan.refereePaymentId);
  }
  const welcome = plan.welcome ? await grantUntilDone({ kind: 'welcome', rewardId: input.rewardId }) : null;
  if (welcome) await notify(welcome, 'referral_welcome', plan.refereePaymentId);
  return { bonus, welcome };

  /** Days owed are granted eventually: no node for a while means alert and wait, never dropping the reward. */
  async function grantUntilDone(grant: DaysGrant): Promise<GrantResult | null> {
    for (;;) {
      try {
        return await grantDays(grant, input.nodeWaitLimitMs);
      } catch (err) {
        await db.raiseOpsAlert({
          kind: 'referral_grant_waiting',
          detail: `reward ${input.rewardId} (${grant.kind}): ${String(err)}`,
        });
        await sleep('5m');
      }
    }
  }
}

async function notify(
  grant: GrantResult,
  kind: 'referral_bonus' | 'referral_welcome',
  refereePaymentId: string,
): Promise<void> {
  const send = telegram();
  const to = { telegramId: grant.telegramId, language: grant.language };
  try {
    // A new access needs its key; a longer one just the news.
    if (grant.kind === 'activated')
      await send.notify({ ...to, kind: 'activated', subscriptionId: grant.subscriptionId });
    await send.notify({
      ...to,
      kind,
      paymentId: refereePaymentId,
      subscriptionId: grant.subscriptionId,
      expiresAt: grant.expiresAt,
    });
  } catch {
    // A blocked referrer still has the days; only the message is lost.
  }
}
