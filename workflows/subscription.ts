import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { database as db, revoke as nodes, telegram } from './activity-options';
import type { Notification } from './notification-messages';
import { stageAttributes } from './stage';
import { lifetimeDetails } from './summaries';
import { autoRenew } from './subscription/auto-renew';
import {
  expiryChangedSignal,
  type SubscriptionInput,
  type SubscriptionState,
  subscriptionStatusQuery,
} from './subscription-messages';

export * from './subscription-messages';

// The life of one access, in order: remind before the end → wait for the end → revoke; a renewal moves the end
// (expiryChangedSignal) and the cycle starts again. The steps below appear in that order; subscriptionWorkflow at
// the end runs them. Replay: every step issues the same commands in the same order as before.

/** Everything one lifetime knows; each step reads and moves it. */
interface Lifetime {
  readonly input: SubscriptionInput;
  readonly state: SubscriptionState;
  /** The current end (ms); moves later on a renewal, earlier only on a cancel or refund (`movedBack`). */
  expiresAt: number;
  /** The end already held for a Stars renewal: each end is held once. */
  heldEnd?: number;
}

function setStage(l: Lifetime, stage: SubscriptionState['stage']): void {
  l.state.stage = stage;
  upsertSearchAttributes(stageAttributes(stage, { telegramId: l.input.telegramId, nodeId: l.input.nodeId }));
  setCurrentDetails(
    lifetimeDetails(
      stage,
      stage === 'REVOKING' ? 'removing the client from its node' : 'in progress',
      l.expiresAt,
    ),
  );
}

function snapshot(l: Lifetime): SubscriptionState {
  return { ...l.state, expiresAt: new Date(l.expiresAt).toISOString() };
}

function listen(l: Lifetime): void {
  setHandler(subscriptionStatusQuery, () => snapshot(l));
  setHandler(expiryChangedSignal, ({ expiresAt: next, movedBack }) => {
    // A renewal never moves the end back; only a cancel or a refund does (the revoke re-checks the database).
    l.expiresAt = movedBack ? Date.parse(next) : Math.max(l.expiresAt, Date.parse(next));
  });
}

async function notify(message: Notification): Promise<void> {
  await telegram()
    .notify(message)
    .catch(() => undefined); // a blocked user still loses access on time
}

/** Waits until `at` unless the end moves first; true when it moved. */
async function endMovedBefore(l: Lifetime, end: number, at: number): Promise<boolean> {
  return Date.now() < at && (await condition(() => l.expiresAt !== end, at - Date.now()));
}

/** Step 1. One reminder per offset before `end`, furthest first; a late one gives way to the next, closer one. */
async function remind(l: Lifetime, end: number): Promise<void> {
  const offsets = [...l.input.remindBeforeMs].sort((a, b) => b - a);
  for (const [i, before] of offsets.entries()) {
    const key = `${end}:${before}`;
    if (l.state.reminded.includes(key) || l.expiresAt !== end) continue;
    setCurrentDetails(
      lifetimeDetails(
        'ACTIVE',
        `waiting to send the reminder at ${new Date(end - before).toISOString()}`,
        end,
      ),
    );
    if (await endMovedBefore(l, end, end - before)) return;
    if (Date.now() >= end) return; // back after a long outage: no reminder for an access already over
    const laterRemindAt = i + 1 < offsets.length ? end - offsets[i + 1] : Number.POSITIVE_INFINITY;
    if (Date.now() >= laterRemindAt) {
      l.state.reminded.push(key); // late: the next, closer reminder replaces this one
      continue;
    }
    await notify({
      kind: 'reminder',
      telegramId: l.input.telegramId,
      language: l.input.language,
      subscriptionId: l.input.subscriptionId,
      expiresAt: new Date(end).toISOString(),
      remindBeforeMs: before,
    });
    l.state.reminded.push(key);
  }
}

/** Step 2. Until the end; true when a renewal moved it first. */
async function awaitEnd(l: Lifetime, end: number): Promise<boolean> {
  setCurrentDetails(lifetimeDetails('ACTIVE', 'waiting for the end (a renewal moves it)', end));
  return l.expiresAt !== end || (await endMovedBefore(l, end, end));
}

/** A renewal: reminders of ends now past are forgotten; a long history starts afresh so years stay small. */
async function renew(l: Lifetime): Promise<void> {
  l.state.reminded = l.state.reminded.filter((k) => Number(k.split(':')[0]) >= l.expiresAt);
  if (workflowInfo().historyLength < 200 && !workflowInfo().continueAsNewSuggested) return;
  await condition(allHandlersFinished);
  await continueAsNew<typeof subscriptionWorkflow>({
    ...l.input,
    expiresAt: new Date(l.expiresAt).toISOString(),
    reminded: l.state.reminded,
  });
}

/** A node that refuses or is gone must not leave paid-up access running forever: alert and keep trying. */
async function removeUntilGone(l: Lifetime, nodeId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await nodes.removeClient({ nodeId, email: l.input.subscriptionId });
    } catch (err) {
      setCurrentDetails(
        lifetimeDetails(
          'REVOKING',
          `node ${nodeId} refused the removal ${attempt} time(s); retrying`,
          l.expiresAt,
        ),
      );
      await db.raiseOpsAlert({
        kind: 'revoke_failed',
        detail: `subscription ${l.input.subscriptionId} on node ${nodeId}: ${String(err)}`,
      });
      await sleep(Math.min(attempt * 60_000, 30 * 60_000));
    }
  }
}

/**
 * Step 3a. Telegram charges the user's Stars subscription at this end, and its successful_payment may come a
 * little after it: the key stays until `until` or until the renewal moves the end; then the revoke asks again.
 */
async function holdForStarsRenewal(l: Lifetime, end: number, until: number): Promise<void> {
  l.heldEnd = end;
  setStage(l, 'ACTIVE');
  setCurrentDetails(
    lifetimeDetails(
      'ACTIVE',
      `ended; holding for the Stars renewal until ${new Date(until).toISOString()}`,
      end,
    ),
  );
  await condition(() => l.expiresAt !== end, Math.max(1, until - Date.now()));
}

/**
 * Step 3b. The end has come: the client leaves its node and the user is told. False when the database knows of a
 * later end (a renewal whose signal has not arrived yet): then the lifetime goes on.
 */
async function revoke(l: Lifetime): Promise<boolean> {
  setStage(l, 'REVOKING');
  const end = l.expiresAt;
  const decision = await db.beginRevoke({
    subscriptionId: l.input.subscriptionId,
    holdForStarsRenewal: l.heldEnd !== end,
  });
  if (decision.kind === 'not_due') {
    l.expiresAt = Math.max(l.expiresAt, Date.parse(decision.expiresAt));
    setStage(l, 'ACTIVE');
    return false;
  }
  if (decision.kind === 'hold') {
    await holdForStarsRenewal(l, end, Date.parse(decision.until));
    return false;
  }
  if (decision.kind === 'revoke') {
    await removeUntilGone(l, decision.nodeId);
    await db.finishRevoke({ subscriptionId: l.input.subscriptionId });
    await notify({
      kind: 'expired',
      telegramId: l.input.telegramId,
      language: l.input.language,
      subscriptionId: l.input.subscriptionId,
      expiresAt: new Date(l.expiresAt).toISOString(),
    });
  }
  setStage(l, decision.kind === 'revoke' ? 'EXPIRED' : 'CLOSED');
  return true;
}

/** The life of one access: remind before the end, revoke at the end; renewals move the end. */
export async function subscriptionWorkflow(input: SubscriptionInput): Promise<SubscriptionState> {
  const l: Lifetime = {
    input,
    state: { stage: 'ACTIVE', expiresAt: input.expiresAt, reminded: [...(input.reminded ?? [])] },
    expiresAt: Date.parse(input.expiresAt),
  };
  listen(l);
  setStage(l, 'ACTIVE');
  for (;;) {
    const end = l.expiresAt;
    // Auto-renew runs beside the reminders; a renewal it makes moves the end and ends both (./subscription/auto-renew.ts).
    if (patched('auto-renew')) await Promise.all([remind(l, end), autoRenew(l, end)]);
    else await remind(l, end);
    if (await awaitEnd(l, end)) {
      await renew(l);
      continue;
    }
    if (await revoke(l)) break;
  }
  await condition(allHandlersFinished);
  return snapshot(l);
}
