import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { purchaseDatabase as db, gifts, refunds, telegram } from './activity-options';
import { grantDays } from './gift-access';
import {
  type GiftClaimResult,
  type GiftInput,
  type GiftState,
  type GiftStatus,
  claimGiftUpdate,
  giftStatusQuery,
} from './gift-messages';
import { SEARCH_ATTRIBUTES as SA } from './search-attributes';
import type { Notification } from './notification-messages';

/**
 * `gift-<code hash>`: one paid gift. Sends the buyer the link, then waits GIFT_CLAIM_WINDOW for the first other
 * user to claim it (the database picks exactly one winner), who gets the access; unclaimed, it refunds the buyer.
 * Money invariant: the gift payment ends in exactly one of a claimed access or a refund.
 */
export async function giftWorkflow(input: GiftInput): Promise<GiftStatus> {
  const status: GiftStatus = { state: 'UNCLAIMED', claimedBy: null, subscriptionId: null, expiresAt: null };
  let granted: GiftClaimResult | undefined;
  const enter = (state: GiftState) => {
    status.state = state;
    upsertSearchAttributes([{ key: SA.GiftState, value: state }]);
  };

  setHandler(giftStatusQuery, () => status);
  setHandler(claimGiftUpdate, async ({ telegramId }) => {
    if (status.claimedBy && status.claimedBy !== telegramId) throw refusal('gift_claimed');
    const { outcome } = await gifts.claimGift({ giftId: input.giftId, telegramId });
    if (outcome !== 'won') throw refusal(outcome);
    status.claimedBy = telegramId;
    // The main loop grants; every claim of the winner (a retry, a double tap) gets the same access.
    await condition(() => granted !== undefined);
    return granted!;
  });

  await notify({ kind: 'gift_link', paymentId: input.paymentId });
  const deadline = Date.parse(input.claimUntil);
  await condition(() => status.claimedBy !== null, Math.max(0, deadline - Date.now()));
  if (!status.claimedBy && (await gifts.expireGift({ giftId: input.giftId })) === 'claimed') {
    // A claim committed in the database just before the window closed: its handler is about to say so.
    await condition(() => status.claimedBy !== null);
  }

  if (status.claimedBy) {
    enter('CLAIMED');
    const grant = await grantUntilDone();
    granted = { subscriptionId: grant.subscriptionId, expiresAt: grant.expiresAt };
    status.subscriptionId = grant.subscriptionId;
    status.expiresAt = grant.expiresAt;
    const to = { telegramId: grant.telegramId, language: grant.language };
    await telegram()
      .notify({ ...to, kind: grant.kind, paymentId: input.paymentId, subscriptionId: grant.subscriptionId })
      .catch(() => undefined);
    await notify({ kind: 'gift_claimed', paymentId: input.paymentId });
  } else {
    enter('REFUNDING');
    await refunds.refundPayment({ paymentId: input.paymentId, reason: 'gift_unclaimed' });
    await gifts.markGiftRefunded({ giftId: input.giftId });
    enter('REFUNDED');
    await notify({ kind: 'refunded', paymentId: input.paymentId });
  }
  await condition(allHandlersFinished);
  return status;

  /** The claimant was promised the access: no node for a while means alert and wait, never a lost gift. */
  async function grantUntilDone() {
    for (;;) {
      try {
        const grant = await grantDays({ kind: 'gift', giftId: input.giftId }, input.nodeWaitLimitMs);
        if (grant) return grant;
        throw new Error('the gift has nothing to grant');
      } catch (err) {
        await db.raiseOpsAlert({
          kind: 'gift_grant_waiting',
          detail: `gift ${input.giftId}: ${String(err)}`,
        });
        await sleep('5m');
      }
    }
  }

  async function notify(message: Omit<Notification, 'telegramId' | 'language'>): Promise<void> {
    await telegram()
      .notify({ ...message, telegramId: input.buyerTelegramId, language: input.language })
      .catch(() => undefined); // a buyer who blocked the bot still gets the claim or the refund
  }
}

function refusal(type: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message: type, nonRetryable: true });
}
