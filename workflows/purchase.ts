import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { createDatabaseActivities } from '../activities/database';
import type { createLifetimeActivities } from '../activities/lifetime';
import type { createNodeActivities } from '../activities/nodes';
import type { createPaymentActivities } from '../activities/payments';
import type { Notification } from '../activities/telegram';
import {
  type PaymentLink,
  type PaymentNotice,
  type PurchaseInput,
  type PurchaseStage,
  type PurchaseStatus,
  paymentLinkUpdate,
  paymentNoticeSignal,
  purchaseStatusQuery,
} from './purchase-messages';
import { offerReferralReward, sellGift } from './gift-sale';
import { stageAttributes } from './stage';
import { telegramActivities } from './telegram-queue';

export * from './purchase-messages';

type Payments = ReturnType<typeof createPaymentActivities>;
type Database = ReturnType<typeof createDatabaseActivities>;

// The provider is an outside system: retry transient faults for a while, never permanent rejections.
const payments = proxyActivities<Payments>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
});
// The payment link must reach the user quickly: few, fast attempts while the API waits.
const paymentCreation = proxyActivities<Payments>({
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['PaymentRejected'],
  },
});
// Refunds are money owed to a user: keep trying until an operator intervenes.
const refunds = proxyActivities<Payments>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10m' },
});
// A poll is one of many: give up on it quickly and let the next one try (a failed poll is a missed poll).
const polling = proxyActivities<Payments>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});
// At the deadline the provider may need a while to settle a payment: ask until it is final.
const settlement = proxyActivities<Payments>({
  startToCloseTimeout: '20s',
  scheduleToCloseTimeout: '25h',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m' },
});
// Our own database: transient failures heal, so retry without a cap; bugs surface as non-retryable types.
const db = proxyActivities<Database>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['AmountMismatch'],
  },
});
const nodes = proxyActivities<ReturnType<typeof createNodeActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
});
// Telegram must confirm a claimed Stars charge before it buys anything; its outages are waited out.
const starsCheck = proxyActivities<Payments>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});
// A spare client left on a node costs nothing but a slot: a few quick tries, then the background loop.
const spareRemoval = proxyActivities<ReturnType<typeof createNodeActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});
const lifetime = proxyActivities<ReturnType<typeof createLifetimeActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Lost webhooks are caught by polling at a growing interval, capped so the gap is never over 2 minutes. */
export const POLL_INTERVALS_MS = [5_000, 10_000, 20_000, 40_000, 60_000, 90_000, 120_000];
/** YooKassa closes an unpaid payment itself within about an hour; we watch a generous bound past that. */
const PROVIDER_SETTLE_LIMIT_MS = 25 * 3_600_000;
/**
 * Stars: Telegram may take the Stars in the seconds around the deadline (pre-checkout refuses the last
 * 2 minutes, but an approved checkout can still complete). The purchase listens this long after it expired;
 * a charge that finds the purchase closed is refunded by the API (starsRefundWorkflow).
 */
export const STARS_GRACE_MS = 10 * 60_000;
/** A charge Telegram does not list yet is looked up again after these pauses before it is set aside. */
const STARS_RECHECK_MS = [1_000, 3_000, 6_000];
/** How long a spare client (from a purchase that lost a race) is retried before ops are left to remove it. */
const SPARE_REMOVAL_LIMIT_MS = 7 * 24 * 3_600_000;

export interface PurchaseResult {
  outcome: 'granted' | 'extended' | 'gifted' | 'canceled' | 'expired' | 'refunded' | 'not_created';
  subscriptionId?: string;
  /** Gift purchases: the gift this payment bought. */
  giftId?: string;
  expiresAt?: string;
}

/** One purchase: create payment → await payment → provision (or extend) → notify; refund if provisioning fails for good. */
export async function purchaseWorkflow(input: PurchaseInput): Promise<PurchaseResult> {
  const startedAt = Date.now();
  const status: PurchaseStatus = {
    stage: 'CREATING_PAYMENT',
    paymentId: input.paymentId,
    providerPaymentId: null,
    telegramId: input.telegramId,
    nodeId: null,
    subscriptionId: null,
    expiresAt: null,
    lastError: null,
  };
  let link: PaymentLink | undefined;
  let linkError: string | undefined;
  let settled: PaymentNotice | undefined;
  // Stars: the bot's word is a claim; Telegram's transaction list is the proof (checkStarClaims).
  const verifiesStars = input.provider === 'stars' && patched('stars-verified-charges');
  const starClaims: PaymentNotice[] = [];
  const strayCharges: Array<{ chargeId: string; payerId: string; why: string }> = [];
  const rejectedCharges: string[] = [];
  const refundedCharges: string[] = [];

  const enterStage = (stage: PurchaseStage) => {
    status.stage = stage;
    upsertSearchAttributes(
      stageAttributes(stage, {
        telegramId: input.telegramId,
        paymentId: input.paymentId,
        nodeId: status.nodeId,
      }),
    );
  };
  const accept = (notice: PaymentNotice) => {
    if (verifiesStars && notice.status === 'succeeded') {
      starClaims.push(notice);
      return;
    }
    // First final state wins: duplicates and stale reorderings change nothing.
    if (settled || (notice.status !== 'succeeded' && notice.status !== 'canceled')) return;
    if (status.providerPaymentId && notice.providerPaymentId !== status.providerPaymentId) return;
    settled = notice;
  };

  setHandler(purchaseStatusQuery, () => status);
  setHandler(paymentNoticeSignal, accept);
  setHandler(paymentLinkUpdate, async () => {
    await condition(() => link !== undefined || linkError !== undefined);
    if (!link)
      throw ApplicationFailure.create({
        type: 'PaymentProviderUnavailable',
        message: linkError,
        nonRetryable: true,
      });
    return link;
  });

  enterStage('CREATING_PAYMENT');
  try {
    link = await paymentCreation.createPayment(input);
    status.providerPaymentId = link.providerPaymentId;
  } catch (err) {
    linkError = errorMessage(err);
    status.lastError = linkError;
    await db.recordPaymentCanceled({ paymentId: input.paymentId, reason: 'provider_unavailable' });
    enterStage('FAILED');
    await condition(allHandlersFinished);
    return { outcome: 'not_created' };
  }

  enterStage('AWAITING_PAYMENT');
  const deadline = startedAt + input.paymentTimeoutMs;
  for (let i = 0; !settled && Date.now() < deadline; i++) {
    const wait = Math.min(
      POLL_INTERVALS_MS[Math.min(i, POLL_INTERVALS_MS.length - 1)],
      deadline - Date.now(),
    );
    if (await condition(() => settled !== undefined || starClaims.length > 0, wait)) {
      if (starClaims.length === 0) break;
      await checkStarClaims();
      continue;
    }
    if (input.provider === 'yookassa' && link.providerPaymentId) {
      await poll(link.providerPaymentId);
    }
  }
  if (
    settled?.status === 'canceled' &&
    input.provider === 'yookassa' &&
    patched('verify-cancel-at-provider')
  ) {
    // A cancel is final only if the provider says so too: money taken must never be read as "canceled".
    const current = settled;
    settled = undefined;
    await poll(current.providerPaymentId);
    if (!settled || (settled as PaymentNotice).status !== 'succeeded') settled = current;
  }
  let providerStillOpen = false;
  if (!settled) {
    // Cancel at the provider; if the user paid in the last second, the provider says so and we provision.
    const final = await settlement.cancelOrGetFinalState(input);
    if ('providerPaymentId' in final && final.status === 'succeeded') accept(final);
    providerStillOpen = final.status === 'pending'; // canceled at the deadline is simply expired
  }

  let result: PurchaseResult;
  if (!settled) {
    await db.recordPaymentExpired({ paymentId: input.paymentId });
    await notify({ kind: 'payment_expired', paymentId: input.paymentId });
    enterStage('EXPIRED');
    result = { outcome: 'expired' };
    // A payment the provider could not cancel may still be paid: watch it until it is final, so money is never lost.
    if (providerStillOpen && (await watchUntilFinal()) === 'succeeded')
      result = await grantAccess(input, settled!, status, enterStage);
    // Stars taken at the deadline (even while the expiry was being recorded) still buy the access.
    if (verifiesStars && (await listenForLateStars()))
      result = await grantAccess(input, settled!, status, enterStage);
  } else if (settled.status === 'canceled') {
    await db.recordPaymentCanceled({
      paymentId: input.paymentId,
      reason: settled.cancellationReason ?? null,
    });
    await notify({
      kind: 'payment_failed',
      paymentId: input.paymentId,
      reason: settled.cancellationReason ?? null,
    });
    enterStage('CANCELED');
    result = { outcome: 'canceled' };
  } else {
    result = await grantAccess(input, settled, status, enterStage);
  }
  // A referred user's first payment rewards the referrer (referral-<referee> workflow; once per referee).
  if (['granted', 'extended', 'gifted'].includes(result.outcome) && patched('referral-reward'))
    await offerReferralReward(input);
  await condition(allHandlersFinished);
  // Claims signalled up to the very end are answered: a charge that bought nothing is refunded.
  while (verifiesStars && (starClaims.length > 0 || strayCharges.length > 0)) {
    await refundStrayCharges();
    await condition(allHandlersFinished);
  }
  return result;

  /**
   * Checks each claimed Stars charge with Telegram (getStarTransactions): the first genuine one, of the right
   * amount and from this user, pays for this purchase. A made-up charge id buys nothing and alerts ops.
   */
  async function checkStarClaims(): Promise<void> {
    for (let claim = starClaims.shift(); claim; claim = starClaims.shift()) {
      const chargeId = claim.telegramChargeId ?? '';
      if (chargeId === (settled?.telegramChargeId ?? null) || rejectedCharges.includes(chargeId)) continue;
      if (settled) {
        strayCharges.push({ chargeId, payerId: input.telegramId, why: 'second charge for one purchase' });
        continue;
      }
      const check = await verifyStarCharge(chargeId);
      if (check.verdict === 'verified') {
        settled = claim;
        continue;
      }
      rejectedCharges.push(chargeId);
      status.lastError = `stars charge ${chargeId}: ${check.verdict}, not granted`;
      // Real Stars from the wrong payer or of the wrong amount bought nothing: they go back to whoever paid.
      if (check.payerId)
        strayCharges.push({ chargeId, payerId: check.payerId, why: `charge ${check.verdict}` });
      await db.raiseOpsAlert({
        kind: 'stars_charge_unverified',
        detail: `purchase ${input.paymentId}: charge ${chargeId} ${check.verdict}; not granted`,
      });
    }
    await refundStrays(); // money that bought nothing goes back now, not when the purchase closes
  }

  async function verifyStarCharge(chargeId: string) {
    for (const pause of [...STARS_RECHECK_MS, 0]) {
      const check = await starsCheck.verifyStarCharge({ paymentId: input.paymentId, chargeId });
      if (check.verdict !== 'unknown_charge' || pause === 0) return check;
      await sleep(pause); // Telegram may list a fresh charge a moment after the update
    }
    throw new Error('unreachable');
  }

  /** After the expiry: one more window for a Stars charge in flight. True when one was verified. */
  async function listenForLateStars(): Promise<boolean> {
    const until = Date.now() + STARS_GRACE_MS;
    while (!settled && Date.now() < until) {
      if (!(await condition(() => starClaims.length > 0, Math.max(1, until - Date.now())))) break;
      await checkStarClaims();
    }
    return settled !== undefined;
  }

  /** Second charges, late charges and charges of the wrong payer: each refunded once (Telegram's word counts). */
  async function refundStrayCharges(): Promise<void> {
    for (const claim of starClaims.splice(0)) {
      const chargeId = claim.telegramChargeId ?? '';
      if (chargeId === (settled?.telegramChargeId ?? null) || rejectedCharges.includes(chargeId)) continue;
      strayCharges.push({ chargeId, payerId: input.telegramId, why: 'charge after the purchase closed' });
    }
    await refundStrays();
  }

  async function refundStrays(): Promise<void> {
    for (const stray of strayCharges.splice(0)) {
      if (refundedCharges.includes(stray.chargeId)) continue;
      refundedCharges.push(stray.chargeId);
      try {
        await refunds.refundStarCharge({
          telegramId: stray.payerId,
          chargeId: stray.chargeId,
          paymentId: input.paymentId,
          reason: stray.why,
        });
      } catch (err) {
        await db.raiseOpsAlert({
          kind: 'stars_refund_failed',
          detail: `purchase ${input.paymentId}: charge ${stray.chargeId}: ${errorMessage(err)}`,
        });
      }
    }
  }

  /** A failed poll is a missed poll: the provider being down for a while must never fail a paid purchase. */
  async function poll(providerPaymentId: string): Promise<void> {
    try {
      accept(await polling.getPaymentState({ providerPaymentId }));
    } catch (err) {
      status.lastError = errorMessage(err);
    }
  }

  async function watchUntilFinal(): Promise<string | undefined> {
    const giveUpAt = Date.now() + PROVIDER_SETTLE_LIMIT_MS;
    for (let i = 0; !settled && Date.now() < giveUpAt; i++) {
      if (
        await condition(
          () => settled !== undefined,
          POLL_INTERVALS_MS[Math.min(i, POLL_INTERVALS_MS.length - 1)],
        )
      )
        break;
      await poll(link!.providerPaymentId!);
    }
    return settled?.status;
  }

  async function notify(message: Omit<Notification, 'telegramId' | 'language'>): Promise<void> {
    try {
      await telegramActivities().notify({
        ...message,
        telegramId: input.telegramId,
        language: input.language,
      });
    } catch (err) {
      // A user who blocked the bot still gets (or loses) access on time; only the message is lost.
      status.lastError = errorMessage(err);
    }
  }
}

async function grantAccess(
  input: PurchaseInput,
  paid: PaymentNotice,
  status: PurchaseStatus,
  enterStage: (s: PurchaseStage) => void,
): Promise<PurchaseResult> {
  enterStage('PROVISIONING');
  const notify = async (message: Omit<Notification, 'telegramId' | 'language'>) => {
    await telegramActivities()
      .notify({ ...message, telegramId: input.telegramId, language: input.language })
      .catch((err) => {
        status.lastError = errorMessage(err);
      });
  };
  const compensations: Array<() => Promise<void>> = [];
  try {
    await db.recordPaymentSucceeded({ paymentId: input.paymentId, notice: paid });
    // A gift buys a gift link, not access for the buyer; a gift that cannot be made is refunded below.
    if (input.purpose === 'gift') {
      const gift = await sellGift(input);
      enterStage('COMPLETED');
      return { outcome: 'gifted', giftId: gift.giftId };
    }
    // Renewal: the same key keeps working, only the end moves.
    const extension = await db.extendActiveSubscription({ paymentId: input.paymentId });
    if (extension) {
      status.subscriptionId = extension.subscriptionId;
      status.expiresAt = extension.expiresAt;
      await lifetime.scheduleLifetime({ subscriptionId: extension.subscriptionId });
      enterStage('NOTIFYING');
      await notify({
        kind: 'extended',
        paymentId: input.paymentId,
        subscriptionId: extension.subscriptionId,
      });
      enterStage('COMPLETED');
      return {
        outcome: 'extended',
        subscriptionId: extension.subscriptionId,
        expiresAt: extension.expiresAt,
      };
    }

    const subscriptionId = uuid4();
    const clientUuid = uuid4();
    const nodeId = await placeClient(input, { email: subscriptionId, uuid: clientUuid }, (id) => {
      status.nodeId = id;
      enterStage('PROVISIONING');
    });
    compensations.unshift(() => nodes.removeClient({ nodeId, email: subscriptionId }));
    const granted = await db.activateSubscription({
      paymentId: input.paymentId,
      subscriptionId,
      clientUuid,
      nodeId,
    });
    let spareLeft: string | undefined;
    if (granted.kind === 'extended') {
      // Another purchase activated first: ours extends it, and our fresh client goes away.
      if (patched('spare-client-best-effort')) {
        // The extension is committed: a node that will not drop the spare never turns it into a refund.
        spareLeft = await removeSpare(nodeId, subscriptionId, input.paymentId);
      } else {
        await nodes.removeClient({ nodeId, email: subscriptionId });
      }
    }
    status.subscriptionId = granted.subscriptionId;
    status.expiresAt = granted.expiresAt;
    await lifetime.scheduleLifetime({ subscriptionId: granted.subscriptionId });
    enterStage('NOTIFYING');
    await notify({
      kind: granted.kind === 'extended' ? 'extended' : 'activated',
      paymentId: input.paymentId,
      subscriptionId: granted.subscriptionId,
    });
    await db.observeKeyDelivered({ paymentId: input.paymentId });
    enterStage('COMPLETED');
    if (spareLeft) await removeSpareInBackground(spareLeft, subscriptionId, input.paymentId);
    return { outcome: granted.kind === 'extended' ? 'extended' : 'granted', ...granted };
  } catch (err) {
    status.lastError = errorMessage(err);
    enterStage('REFUNDING');
    for (const undo of compensations) await undo().catch((e) => (status.lastError = errorMessage(e)));
    await refunds.refundPayment({
      paymentId: input.paymentId,
      reason: status.lastError ?? 'provisioning failed',
    });
    await notify({ kind: 'refunded', paymentId: input.paymentId });
    enterStage('REFUNDED');
    return { outcome: 'refunded' };
  }
}

/** One quick try at dropping the spare client; the node's id when it is still there. */
async function removeSpare(nodeId: string, email: string, paymentId: string): Promise<string | undefined> {
  try {
    await spareRemoval.removeClient({ nodeId, email });
    return undefined;
  } catch (err) {
    await db.raiseOpsAlert({
      kind: 'spare_client_left',
      detail: `purchase ${paymentId}: client ${email} on node ${nodeId} (the access was extended, no refund): ${errorMessage(err)}`,
    });
    return nodeId;
  }
}

/** After the user has the access and the message: keep trying to drop the spare, alerting now and then. */
async function removeSpareInBackground(nodeId: string, email: string, paymentId: string): Promise<void> {
  const giveUpAt = Date.now() + SPARE_REMOVAL_LIMIT_MS;
  for (let delay = 5_000; Date.now() < giveUpAt; delay = Math.min(delay * 2, 30 * 60_000)) {
    await sleep(delay);
    if (!(await removeSpare(nodeId, email, paymentId))) return;
  }
}

/**
 * Puts the client on a node. No healthy node with room: wait with backoff and alert ops. A node that fails
 * AddClient (after its own retries) is set aside and another is tried. Past the bound, give up (the caller refunds).
 */
async function placeClient(
  input: PurchaseInput,
  client: { email: string; uuid: string },
  onNode: (nodeId: string) => void,
): Promise<string> {
  const giveUpAt = Date.now() + input.nodeWaitLimitMs;
  const excluded: string[] = [];
  let delay = 5_000;
  for (let attempt = 1; ; attempt++) {
    const nodeId = await db.selectNode({ location: input.tariff.location ?? null, exclude: excluded });
    if (nodeId) {
      onNode(nodeId);
      try {
        await nodes.addClient({ nodeId, ...client });
        return nodeId;
      } catch (err) {
        // Purchases started before this change refunded right here; replaying them must do the same.
        if (!patched('add-client-on-another-node')) throw err;
        excluded.push(nodeId);
        await db.raiseOpsAlert({ kind: 'add_client_failed', detail: `node ${nodeId}: ${errorMessage(err)}` });
        if (Date.now() >= giveUpAt) throw err;
        continue;
      }
    }
    await db.raiseOpsAlert({
      kind: 'no_node_available',
      detail: `purchase ${input.paymentId}, attempt ${attempt}`,
    });
    if (Date.now() + delay > giveUpAt) {
      throw ApplicationFailure.create({
        type: 'NoNodeAvailable',
        message: 'no healthy VPN node with free capacity',
        nonRetryable: true,
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 5 * 60_000);
    // Setting a failed node aside is a preference: once nothing else is left, it gets another chance.
    excluded.length = 0;
  }
}

function errorMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}
