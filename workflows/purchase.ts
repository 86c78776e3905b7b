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
const lifetime = proxyActivities<ReturnType<typeof createLifetimeActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Lost webhooks are caught by polling at a growing interval, capped so the gap is never over 2 minutes. */
export const POLL_INTERVALS_MS = [5_000, 10_000, 20_000, 40_000, 60_000, 90_000, 120_000];
/** YooKassa closes an unpaid payment itself within about an hour; we watch a generous bound past that. */
const PROVIDER_SETTLE_LIMIT_MS = 25 * 3_600_000;

export interface PurchaseResult {
  outcome: 'granted' | 'extended' | 'canceled' | 'expired' | 'refunded' | 'not_created';
  subscriptionId?: string;
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
    if (await condition(() => settled !== undefined, wait)) break;
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
  await condition(allHandlersFinished);
  return result;

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
    if (granted.kind === 'extended') {
      // Another purchase activated first: ours extends it, and our fresh client goes away.
      await nodes.removeClient({ nodeId, email: subscriptionId });
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
