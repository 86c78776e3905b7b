import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import {
  type PurchaseSteps,
  nodes,
  polling,
  purchaseStepsLocal,
  purchaseStepsScheduled,
  refunds,
  settlement,
} from './activity-options';
import { Failure, failureType } from './failures';
import { pollGap } from './payment-polling';
import { offerReferralReward, sellGift } from './gift-sale';
import { placeClient, removeSpare, removeSpareInBackground } from './purchase/placement';
import { checkStarClaims, listenForLateStars, refundStrayCharges } from './purchase/stars';
import { acceptBalancePayment, creditTopUp } from './purchase/balance';
import { sellTrafficPack } from './purchase/traffic-pack';
import { applyUpgrade } from './purchase/plan-change';
import { purchaseChanges } from './purchase/changes';
import { accept, enterStage, errorMessage, newPurchase, notify, type Purchase } from './purchase/state';
import {
  type PaymentNotice,
  type PurchaseInput,
  operatorRefundSignal,
  paymentLinkUpdate,
  paymentNoticeSignal,
  purchaseStatusQuery,
} from './purchase-messages';

export * from './purchase-messages';
export { STARS_GRACE_MS } from './purchase/stars';

// One purchase, in process order: create payment → await payment (webhook or poll) → settle at the deadline →
// provision (select node, AddClient, persist) or extend → start the lifetime → notify; refund if provisioning
// fails for good. The steps below appear in that order; purchaseWorkflow at the end runs them.
// Replay: every step issues the same commands in the same order as before; changes go behind patched(),
// decided at the start (./purchase/changes.ts).

/** YooKassa closes an unpaid payment itself within about an hour; we watch a generous bound past that. */
const PROVIDER_SETTLE_LIMIT_MS = 25 * 3_600_000;

export interface PurchaseResult {
  outcome:
    | 'granted'
    | 'extended'
    | 'gifted'
    | 'canceled'
    | 'expired'
    | 'refunded'
    | 'not_created'
    | 'topped_up'
    | 'traffic_pack_added'
    | 'changed';
  subscriptionId?: string;
  /** Gift purchases: the gift this payment bought. */
  giftId?: string;
  expiresAt?: string;
}

/** The API waits on paymentLinkUpdate for the link; the status query and payment notices are answered throughout. */
function listen(p: Purchase): void {
  setHandler(purchaseStatusQuery, () => p.status);
  setHandler(paymentNoticeSignal, (notice) => accept(p, notice));
  setHandler(operatorRefundSignal, (request) => {
    p.operatorRefund ??= request;
  });
  setHandler(paymentLinkUpdate, async () => {
    await condition(() => p.link !== undefined || p.linkError !== undefined);
    if (!p.link)
      throw ApplicationFailure.create({
        type: p.linkErrorType ?? Failure.PaymentProviderUnavailable,
        message: p.linkError,
        nonRetryable: true,
      });
    return p.link;
  });
}

/** Step 1. The payment at the provider; false (and the payment closed) when the provider is unavailable. */
async function createPayment(p: Purchase): Promise<boolean> {
  enterStage(p, 'CREATING_PAYMENT');
  try {
    p.link = await p.steps.paymentCreation.createPayment(p.input);
    p.status.providerPaymentId = p.link.providerPaymentId;
    if (p.link.settled) accept(p, p.link.settled); // a saved card answered at once (auto-renew)
    return true;
  } catch (err) {
    p.linkError = errorMessage(err);
    p.status.lastError = p.linkError;
    // A balance that does not cover the price is the user's answer (409), not a provider outage (503).
    if (failureType(err) === Failure.InsufficientBalance) p.linkErrorType = Failure.InsufficientBalance;
    await p.steps.db.recordPaymentCanceled({ paymentId: p.input.paymentId, reason: 'provider_unavailable' });
    enterStage(p, 'FAILED');
    return false;
  }
}

/** A failed poll is a missed poll: the provider being down for a while must never fail a paid purchase. */
async function poll(p: Purchase, providerPaymentId: string): Promise<void> {
  try {
    accept(p, await polling.getPaymentState({ providerPaymentId }));
  } catch (err) {
    p.status.lastError = errorMessage(err);
  }
}

/** Step 2. Until the deadline: the webhook's signal, or our poll when the webhook is lost; Stars claims checked. */
async function awaitPayment(p: Purchase, deadline: number): Promise<void> {
  enterStage(p, 'AWAITING_PAYMENT');
  for (let i = 0; !p.settled && Date.now() < deadline; i++) {
    const wait = Math.min(pollGap(i), deadline - Date.now());
    if (await condition(() => p.settled !== undefined || p.starClaims.length > 0, wait)) {
      if (p.starClaims.length === 0) break;
      await checkStarClaims(p);
      continue;
    }
    if (p.input.provider === 'yookassa' && p.link?.providerPaymentId) await poll(p, p.link.providerPaymentId);
  }
  if (
    p.settled?.status === 'canceled' &&
    p.input.provider === 'yookassa' &&
    p.has('verify-cancel-at-provider')
  ) {
    // A cancel is final only if the provider says so too: money taken must never be read as "canceled".
    const cancel = p.settled;
    p.settled = undefined;
    await poll(p, cancel.providerPaymentId);
    if (!p.settled || (p.settled as PaymentNotice).status !== 'succeeded') p.settled = cancel;
  }
}

/**
 * Step 3. Nothing final by the deadline: cancel at the provider; if the user paid in the last second, the
 * provider says so and we provision. True when the provider could not cancel it (it may still be paid).
 */
async function settleAtDeadline(p: Purchase): Promise<boolean> {
  const final = await settlement.cancelOrGetFinalState(p.input);
  if ('providerPaymentId' in final && final.status === 'succeeded') accept(p, final);
  return final.status === 'pending'; // canceled at the deadline is simply expired
}

/** A payment the provider could not cancel: polled until it is final, so money is never lost. */
async function watchUntilFinal(p: Purchase): Promise<string | undefined> {
  const giveUpAt = Date.now() + PROVIDER_SETTLE_LIMIT_MS;
  for (let i = 0; !p.settled && Date.now() < giveUpAt; i++) {
    if (await condition(() => p.settled !== undefined, pollGap(i))) break;
    await poll(p, p.link!.providerPaymentId!);
  }
  return p.settled?.status;
}

/** A subscription as the database granted it. */
type Grant = Awaited<ReturnType<PurchaseSteps['db']['activateSubscription']>>;
type Access = Pick<Grant, 'subscriptionId' | 'expiresAt'>;

/**
 * Steps 5-6. The access is in the database: its lifetime starts (reminders, revoke at the end), then the user is
 * told. `keyDelivered` marks the key-delivery latency for a provisioned purchase.
 */
async function startLifetimeAndNotify(
  p: Purchase,
  access: Access,
  kind: 'activated' | 'extended',
  keyDelivered: boolean,
): Promise<void> {
  p.status.subscriptionId = access.subscriptionId;
  p.status.expiresAt = access.expiresAt;
  await p.steps.lifetime.scheduleLifetime({ subscriptionId: access.subscriptionId });
  enterStage(p, 'NOTIFYING');
  const told = kind === 'extended' && p.input.autoRenew ? 'auto_renewed' : kind;
  await notify(p, { kind: told, paymentId: p.input.paymentId, subscriptionId: access.subscriptionId });
  if (keyDelivered) await p.steps.db.observeKeyDelivered({ paymentId: p.input.paymentId });
  enterStage(p, 'COMPLETED');
}

/** A client placed on a node, to remove again if the purchase is refunded. */
interface PlacedClient {
  nodeId: string;
  email: string;
}

/**
 * Step 4b. A new access: select a node and AddClient there (./purchase/placement.ts), then persist it. If another
 * purchase of this user activated first, ours extends that one and our fresh client goes away.
 */
async function provision(
  p: Purchase,
  onPlaced: (client: PlacedClient) => void,
): Promise<{ grant: Grant; spareLeft?: PlacedClient }> {
  const subscriptionId = uuid4();
  const clientUuid = uuid4();
  const nodeId = await placeClient(p, { email: subscriptionId, uuid: clientUuid });
  const client = { nodeId, email: subscriptionId };
  onPlaced(client);
  const grant = await p.steps.db.activateSubscription({
    paymentId: p.input.paymentId,
    subscriptionId,
    clientUuid,
    nodeId,
  });
  if (grant.kind !== 'extended') return { grant };
  if (!p.has('spare-client-best-effort')) {
    await nodes.removeClient(client);
    return { grant };
  }
  // The extension is committed: a node that will not drop the spare never turns it into a refund.
  const leftOn = await removeSpare(nodeId, subscriptionId, p.input.paymentId);
  return { grant, spareLeft: leftOn ? client : undefined };
}

/** Step 7. Provisioning failed for good: the placed client goes, the money goes back, the user is told. */
async function refund(p: Purchase, err: unknown, placed: PlacedClient | undefined): Promise<PurchaseResult> {
  // The refund's reason is the last error seen; errorMessage always yields a string, so it needs no default.
  let reason = errorMessage(err);
  p.status.lastError = reason;
  enterStage(p, 'REFUNDING');
  if (placed)
    await nodes.removeClient(placed).catch((e) => {
      reason = errorMessage(e);
      p.status.lastError = reason;
    });
  await refunds.refundPayment({ paymentId: p.input.paymentId, reason });
  await notify(p, { kind: 'refunded', paymentId: p.input.paymentId });
  enterStage(p, 'REFUNDED');
  return { outcome: 'refunded' };
}

/** Steps 4-7 for a succeeded payment: extend or provision, start the lifetime, notify; or refund. */
async function grantAccess(p: Purchase): Promise<PurchaseResult> {
  enterStage(p, 'PROVISIONING');
  let placed: PlacedClient | undefined;
  try {
    await p.steps.db.recordPaymentSucceeded({ paymentId: p.input.paymentId, notice: p.settled! });
    // Step 4c. A gift buys a gift link, not access for the buyer (./gift-sale.ts); a gift not made is refunded.
    if (p.input.purpose === 'gift') {
      const gift = await sellGift(p.input);
      enterStage(p, 'COMPLETED');
      return { outcome: 'gifted', giftId: gift.giftId };
    }
    // Step 4d. A plan change: the running access gets the new tariff (./purchase/plan-change.ts).
    if (p.input.purpose === 'upgrade') return await applyUpgrade(p);
    const extension = await p.steps.db.extendActiveSubscription({ paymentId: p.input.paymentId });
    if (extension) {
      // Step 4a. A renewal: the same key keeps working, only the end moves.
      await startLifetimeAndNotify(p, extension, 'extended', false);
      return {
        outcome: 'extended',
        subscriptionId: extension.subscriptionId,
        expiresAt: extension.expiresAt,
      };
    }
    const { grant, spareLeft } = await provision(p, (client) => {
      placed = client;
    });
    await startLifetimeAndNotify(p, grant, grant.kind, true);
    if (spareLeft) await removeSpareInBackground(spareLeft.nodeId, spareLeft.email, p.input.paymentId);
    return { outcome: grant.kind === 'extended' ? 'extended' : 'granted', ...grant };
  } catch (err) {
    return await refund(p, err, placed);
  }
}

/** Step 4. A succeeded payment buys what its purpose says: balance, traffic, or access (or a gift, a plan change). */
async function buyWhatWasPaid(p: Purchase): Promise<PurchaseResult> {
  if (p.input.purpose === 'topup') return creditTopUp(p);
  if (p.input.purpose === 'traffic_pack') return sellTrafficPack(p);
  return grantAccess(p);
}

/**
 * A payment settled after the deadline. Late top-ups and traffic packs once went to grantAccess, which cannot
 * grant them (no tariff): behind the patch they buy what they paid for; older histories replay as they ran.
 */
async function buyLate(p: Purchase): Promise<PurchaseResult> {
  const bySpecialPurpose = p.input.purpose === 'topup' || p.input.purpose === 'traffic_pack';
  if (bySpecialPurpose && p.has('late-settle-by-purpose')) return buyWhatWasPaid(p);
  return grantAccess(p);
}

/** Not paid by the deadline: expired, unless the provider or a late Stars charge still brings the money. */
async function expire(p: Purchase, providerStillOpen: boolean): Promise<PurchaseResult> {
  await p.steps.db.recordPaymentExpired({ paymentId: p.input.paymentId });
  if (!p.input.autoRenew) await notify(p, { kind: 'payment_expired', paymentId: p.input.paymentId });
  enterStage(p, 'EXPIRED');
  let result: PurchaseResult = { outcome: 'expired' };
  if (providerStillOpen && (await watchUntilFinal(p)) === 'succeeded') result = await buyLate(p);
  // Stars taken at the deadline (even while the expiry was being recorded) still buy what they paid for.
  if (p.verifiesStars && (await listenForLateStars(p))) result = await buyLate(p);
  return result;
}

/** The provider canceled the payment (the user declined, the card failed): nothing was taken. */
async function cancel(p: Purchase, canceled: PaymentNotice): Promise<PurchaseResult> {
  const reason = canceled.cancellationReason ?? null;
  await p.steps.db.recordPaymentCanceled({ paymentId: p.input.paymentId, reason });
  // An auto-renew decline is told by the lifetime, once per period (workflows/subscription/auto-renew.ts).
  if (!p.input.autoRenew) await notify(p, { kind: 'payment_failed', paymentId: p.input.paymentId, reason });
  enterStage(p, 'CANCELED');
  return { outcome: 'canceled' };
}

/** Claims signalled up to the very end are answered: a Stars charge that bought nothing is refunded. */
async function close(p: Purchase): Promise<void> {
  await condition(allHandlersFinished);
  while (p.verifiesStars && (p.starClaims.length > 0 || p.strayCharges.length > 0)) {
    await refundStrayCharges(p);
    await condition(allHandlersFinished);
  }
}

/** One purchase, from the payment link to the key (or the refund). */
export async function purchaseWorkflow(input: PurchaseInput): Promise<PurchaseResult> {
  const deadline = Date.now() + input.paymentTimeoutMs;
  // Purchases begun before the local steps replay the scheduled activities they ran (same commands, same order).
  const steps = patched('local-purchase-steps') ? purchaseStepsLocal : purchaseStepsScheduled;
  const p = newPurchase(
    input,
    input.provider === 'stars' && patched('stars-verified-charges'),
    steps,
    purchaseChanges(),
  );
  listen(p);

  if (!(await createPayment(p))) {
    await condition(allHandlersFinished);
    return { outcome: 'not_created' };
  }
  // Paid from the balance: the debit happened with the payment row, nothing to wait for.
  if (input.provider === 'balance') acceptBalancePayment(p);
  await awaitPayment(p, deadline);
  const providerStillOpen = p.settled ? false : await settleAtDeadline(p);

  let result: PurchaseResult;
  if (!p.settled) result = await expire(p, providerStillOpen);
  else if (p.settled.status === 'canceled') result = await cancel(p, p.settled);
  else result = await buyWhatWasPaid(p);
  // A referred user's first payment rewards the referrer (referral-<referee> workflow; once per referee).
  if (['granted', 'extended', 'gifted'].includes(result.outcome) && p.has('referral-reward'))
    await offerReferralReward(p.input, p.steps.referrals);
  await close(p);
  return result;
}
