import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { Notification } from '../activities/telegram';
import { purchaseDatabase as db, freeAccess as grants, lifetime, nodes, telegram } from './activity-options';
import { Failure } from './failures';
import { stageAttributes } from './stage';
import {
  type FreeAccessInput,
  type FreeAccessResult,
  type FreeAccessStage,
  type FreeAccessStatus,
  freeAccessStatusQuery,
} from './trial-messages';

export * from './trial-messages';

/**
 * A free access (a trial, a free-days code): extend the running access, or provision a new one on a node and
 * hand it to the same lifetime workflow a paid access has (`subscription-<id>`: reminder, revoke on time).
 * It finishes once the access is handed over; buying later extends that access like any renewal.
 */
export async function freeAccessWorkflow(input: FreeAccessInput): Promise<FreeAccessResult> {
  const status: FreeAccessStatus = {
    stage: 'PROVISIONING',
    subscriptionId: null,
    expiresAt: null,
    nodeId: null,
    lastError: null,
  };
  const enterStage = (stage: FreeAccessStage) => {
    status.stage = stage;
    upsertSearchAttributes(stageAttributes(stage, { telegramId: input.telegramId, nodeId: status.nodeId }));
  };
  setHandler(freeAccessStatusQuery, () => status);
  enterStage('PROVISIONING');

  let result = await grants.applyFreeExtension({
    grantId: input.grantId,
    extendExisting: input.extendExisting,
  });
  if (!result) {
    try {
      result = await provision();
    } catch (err) {
      status.lastError = errorMessage(err);
      await grants.failFreeGrant({ grantId: input.grantId, why: status.lastError });
      await db.raiseOpsAlert({
        kind: 'free_access_failed',
        detail: `${input.reason} ${input.grantId}: ${status.lastError}`,
      });
      enterStage('FAILED');
      await condition(allHandlersFinished);
      return { outcome: 'failed' };
    }
  }
  if (result.outcome === 'superseded' || result.outcome === 'failed') {
    enterStage(result.outcome === 'failed' ? 'FAILED' : 'SUPERSEDED');
    return result;
  }
  status.subscriptionId = result.subscriptionId ?? null;
  status.expiresAt = result.expiresAt ?? null;
  await lifetime.scheduleLifetime({ subscriptionId: result.subscriptionId! });
  enterStage('NOTIFYING');
  await notify(
    result.outcome === 'activated'
      ? { kind: 'activated', subscriptionId: result.subscriptionId }
      : { kind: 'extended', subscriptionId: result.subscriptionId, expiresAt: result.expiresAt },
  );
  enterStage('COMPLETED');
  await condition(allHandlersFinished);
  return result;

  async function provision(): Promise<FreeAccessResult> {
    const subscriptionId = input.subscriptionId ?? uuid4();
    const clientUuid = uuid4();
    const location = await grants.freeAccessLocation({ tariffSlug: input.tariffSlug });
    const nodeId = await placeClient(location, { email: subscriptionId, uuid: clientUuid });
    let granted: FreeAccessResult;
    try {
      granted = await grants.activateFreeAccess({
        grantId: input.grantId,
        tariffSlug: input.tariffSlug,
        subscriptionId,
        clientUuid,
        nodeId,
        extendExisting: input.extendExisting,
      });
    } catch (err) {
      await nodes.removeClient({ nodeId, email: subscriptionId }).catch(() => undefined);
      throw err;
    }
    if (granted.subscriptionId !== subscriptionId) {
      // Another access came first (extended or superseded): our fresh client is a spare; a slot, not money.
      await nodes.removeClient({ nodeId, email: subscriptionId }).catch(async (err) => {
        await db.raiseOpsAlert({
          kind: 'spare_client_left',
          detail: `free grant ${input.grantId}: client ${subscriptionId} on node ${nodeId}: ${errorMessage(err)}`,
        });
      });
    }
    return granted;
  }

  /** Healthy node with room in the location; waits with backoff (alerting ops) up to nodeWaitLimitMs. */
  async function placeClient(location: string | null, client: { email: string; uuid: string }) {
    const giveUpAt = Date.now() + input.nodeWaitLimitMs;
    const excluded: string[] = [];
    for (let delay = 5_000; ; delay = Math.min(delay * 2, 5 * 60_000)) {
      const nodeId = await db.selectNode({ location, exclude: excluded });
      if (nodeId) {
        status.nodeId = nodeId;
        enterStage('PROVISIONING');
        try {
          await nodes.addClient({ nodeId, ...client });
          return nodeId;
        } catch (err) {
          excluded.push(nodeId);
          await db.raiseOpsAlert({
            kind: 'add_client_failed',
            detail: `node ${nodeId}: ${errorMessage(err)}`,
          });
          if (Date.now() >= giveUpAt) throw err;
          continue;
        }
      }
      await db.raiseOpsAlert({ kind: 'no_node_available', detail: `free grant ${input.grantId}` });
      if (Date.now() + delay > giveUpAt)
        throw ApplicationFailure.create({
          type: Failure.NoNodeAvailable,
          message: 'no healthy VPN node with free capacity',
          nonRetryable: true,
        });
      await sleep(delay);
      excluded.length = 0;
    }
  }

  async function notify(message: Omit<Notification, 'telegramId' | 'language'>): Promise<void> {
    try {
      await telegram().notify({
        ...message,
        telegramId: input.telegramId,
        language: input.language,
      });
    } catch (err) {
      status.lastError = errorMessage(err); // a user who blocked the bot keeps the access; only the message is lost
    }
  }
}

function errorMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}
