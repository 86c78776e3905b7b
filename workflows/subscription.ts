import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createDatabaseActivities } from '../activities/database';
import type { createNodeActivities } from '../activities/nodes';
import type { Notification } from '../activities/telegram';
import { stageAttributes } from './stage';
import { telegramActivities } from './telegram-queue';

export interface SubscriptionInput {
  subscriptionId: string;
  telegramId: string;
  language: string;
  nodeId: string;
  expiresAt: string;
  remindBeforeMs: number[];
  /** Reminders already sent, as "<expiresAt ms>:<offset ms>", carried across continue-as-new. */
  reminded?: string[];
}

export interface SubscriptionState {
  stage: 'ACTIVE' | 'REVOKING' | 'EXPIRED' | 'CLOSED';
  expiresAt: string;
  reminded: string[];
}

/** `movedBack`: a cancel or a refund ended the access earlier (otherwise an end never moves back). */
export const expiryChangedSignal =
  defineSignal<[{ expiresAt: string; movedBack?: boolean }]>('expiryChanged');
export const subscriptionStatusQuery = defineQuery<SubscriptionState>('status');

const db = proxyActivities<ReturnType<typeof createDatabaseActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});
// Revocation must happen: keep retrying a dead node (ops see the stage REVOKING) rather than give up.
const nodes = proxyActivities<ReturnType<typeof createNodeActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/** The life of one access: remind before the end, revoke at the end; renewals move the end. */
export async function subscriptionWorkflow(input: SubscriptionInput): Promise<SubscriptionState> {
  const state: SubscriptionState = {
    stage: 'ACTIVE',
    expiresAt: input.expiresAt,
    reminded: [...(input.reminded ?? [])],
  };
  let expiresAt = Date.parse(input.expiresAt);
  const setStage = (stage: SubscriptionState['stage']) => {
    state.stage = stage;
    upsertSearchAttributes(stageAttributes(stage, { telegramId: input.telegramId, nodeId: input.nodeId }));
  };
  setHandler(subscriptionStatusQuery, () => ({ ...state, expiresAt: new Date(expiresAt).toISOString() }));
  setHandler(expiryChangedSignal, ({ expiresAt: next, movedBack }) => {
    // A renewal never moves the end back; only a cancel or a refund does (the revoke re-checks the database).
    expiresAt = movedBack ? Date.parse(next) : Math.max(expiresAt, Date.parse(next));
  });
  const notify = (message: Notification) =>
    telegramActivities()
      .notify(message)
      .catch(() => undefined); // a blocked user still loses access on time
  const movedFrom = (end: number) => () => expiresAt !== end;

  setStage('ACTIVE');
  for (;;) {
    const end = expiresAt;
    const offsets = [...input.remindBeforeMs].sort((a, b) => b - a);
    for (const [i, before] of offsets.entries()) {
      const key = `${end}:${before}`;
      if (state.reminded.includes(key) || expiresAt !== end) continue;
      const remindAt = end - before;
      if (Date.now() < remindAt && (await condition(movedFrom(end), remindAt - Date.now()))) break;
      if (Date.now() >= end) break; // back after a long outage: no reminder for an access already over
      const laterRemindAt = i + 1 < offsets.length ? end - offsets[i + 1] : Number.POSITIVE_INFINITY;
      if (Date.now() >= laterRemindAt) {
        state.reminded.push(key); // late: the next, closer reminder replaces this one
        continue;
      }
      await notify({
        kind: 'reminder',
        telegramId: input.telegramId,
        language: input.language,
        subscriptionId: input.subscriptionId,
        expiresAt: new Date(end).toISOString(),
        remindBeforeMs: before,
      });
      state.reminded.push(key);
    }
    if (expiresAt !== end) {
      await renewCycle();
      continue;
    }
    if (Date.now() < end && (await condition(movedFrom(end), end - Date.now()))) {
      await renewCycle();
      continue;
    }

    setStage('REVOKING');
    const revoke = await db.beginRevoke({ subscriptionId: input.subscriptionId });
    if (revoke.kind === 'not_due') {
      // The database knows of a later end (a renewal whose signal has not arrived yet).
      expiresAt = Math.max(expiresAt, Date.parse(revoke.expiresAt));
      setStage('ACTIVE');
      continue;
    }
    if (revoke.kind === 'revoke') {
      await removeUntilGone(revoke.nodeId);
      await db.finishRevoke({ subscriptionId: input.subscriptionId });
      await notify({
        kind: 'expired',
        telegramId: input.telegramId,
        language: input.language,
        subscriptionId: input.subscriptionId,
        expiresAt: new Date(expiresAt).toISOString(),
      });
    }
    setStage(revoke.kind === 'revoke' ? 'EXPIRED' : 'CLOSED');
    await condition(allHandlersFinished);
    return { ...state, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** A node that refuses or is gone must not leave paid-up access running forever: alert and keep trying. */
  async function removeUntilGone(nodeId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await nodes.removeClient({ nodeId, email: input.subscriptionId });
      } catch (err) {
        await db.raiseOpsAlert({
          kind: 'revoke_failed',
          detail: `subscription ${input.subscriptionId} on node ${nodeId}: ${String(err)}`,
        });
        await sleep(Math.min(attempt * 60_000, 30 * 60_000));
      }
    }
  }

  /** Each renewal starts a fresh history, so a subscription renewed for years stays small. */
  async function renewCycle(): Promise<void> {
    state.reminded = state.reminded.filter((k) => Number(k.split(':')[0]) >= expiresAt);
    if (workflowInfo().historyLength < 200 && !workflowInfo().continueAsNewSuggested) return;
    await condition(allHandlersFinished);
    await continueAsNew<typeof subscriptionWorkflow>({
      ...input,
      expiresAt: new Date(expiresAt).toISOString(),
      reminded: state.reminded,
    });
  }
}
