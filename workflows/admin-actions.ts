import { ApplicationFailure, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { AdminGrantResult, createAdminActivities } from '../activities/admin';
import type { createDatabaseActivities } from '../activities/database';
import type { createLifetimeActivities } from '../activities/lifetime';
import type { createNodeActivities } from '../activities/nodes';
import { telegram } from './activity-options';
import { Failure } from './failures';

/**
 * What an operator does to one user's access, each as a short workflow on the purchases queue (ids
 * `admin-<action>-<uuid>`), so node calls run where the node drivers live and a worker restart resumes them.
 */

export interface AdminAccessInput {
  action: 'extend' | 'grant';
  telegramId: string;
  admin: string;
  /** Keys the database writes: a retried step never extends twice. */
  grantId: string;
  tariffId?: number;
  /** Days to add; for a grant, the tariff's duration when absent. */
  days?: number;
}

export interface AdminRevokeInput {
  telegramId: string;
  admin: string;
}

export interface AdminResendInput {
  telegramId: string;
  resendId: string;
}

const admin = proxyActivities<ReturnType<typeof createAdminActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 10 },
});
const db = proxyActivities<ReturnType<typeof createDatabaseActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 10 },
});
const lifetime = proxyActivities<ReturnType<typeof createLifetimeActivities>>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 10 },
});
// An operator is waiting: a few tries, then the failure goes back to the API (and to the audit row).
const nodes = proxyActivities<ReturnType<typeof createNodeActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 4 },
});

const DAY_SECONDS = 86_400;

/** Extend the running access by N days, or grant one (a new access on a node when none runs). */
export async function adminAccessWorkflow(input: AdminAccessInput): Promise<AdminGrantResult> {
  const target = await admin.adminAccessTarget({
    telegramId: input.telegramId,
    tariffId: input.tariffId ?? null,
  });
  const seconds = input.days ? input.days * DAY_SECONDS : target.durationSeconds;
  let result: AdminGrantResult;
  if (input.action === 'extend' || target.active) {
    result = await admin.adminExtend({
      telegramId: input.telegramId,
      seconds,
      grantId: input.grantId,
      admin: input.admin,
    });
  } else {
    const nodeId = await db.selectNode({ location: target.location });
    if (!nodeId) {
      await db.raiseOpsAlert({ kind: 'no_node_available', detail: `admin grant for ${input.telegramId}` });
      throw ApplicationFailure.nonRetryable('no node is available for this tariff', Failure.NoNodeAvailable);
    }
    const subscriptionId = uuid4();
    const clientUuid = uuid4();
    await nodes.addClient({ nodeId, email: subscriptionId, uuid: clientUuid });
    result = await admin.adminActivate({
      telegramId: input.telegramId,
      tariffId: input.tariffId!,
      seconds,
      grantId: input.grantId,
      admin: input.admin,
      subscriptionId,
      clientUuid,
      nodeId,
    });
    // Another access appeared meanwhile and was extended instead: our client on the node is not used.
    if (result.spareClient)
      await nodes.removeClient({ nodeId, email: subscriptionId }).catch(() => undefined);
  }
  await lifetime.scheduleLifetime({ subscriptionId: result.subscriptionId });
  await telegram()
    .notify({
      kind: result.kind,
      telegramId: input.telegramId,
      language: result.language,
      subscriptionId: result.subscriptionId,
      expiresAt: result.kind === 'extended' ? result.expiresAt : undefined,
    })
    .catch(() => undefined); // a user who blocked the bot still gets the access
  return result;
}

/** Revoke now: the node must confirm the client is gone before the access is recorded as revoked. */
export async function adminRevokeWorkflow(
  input: AdminRevokeInput,
): Promise<{ subscriptionId: string; nodeId: string } | null> {
  const access = await admin.adminBeginRevoke({ telegramId: input.telegramId });
  if (!access) return null;
  try {
    await nodes.removeClient({ nodeId: access.nodeId, email: access.subscriptionId });
  } catch (err) {
    await db.raiseOpsAlert({
      kind: 'revoke_failed',
      detail: `admin revoke of ${access.subscriptionId} on node ${access.nodeId}: ${String(err)}`,
    });
    throw err;
  }
  await admin.adminFinishRevoke({ subscriptionId: access.subscriptionId, admin: input.admin });
  await admin.closeLifetime({ subscriptionId: access.subscriptionId, reason: `revoked by ${input.admin}` });
  return { subscriptionId: access.subscriptionId, nodeId: access.nodeId };
}

/** Sends the key (link, QR) of the running access again, as a new message. */
export async function adminResendKeyWorkflow(
  input: AdminResendInput,
): Promise<'sent' | 'skipped' | 'blocked' | 'no_access'> {
  const target = await admin.adminAccessTarget({ telegramId: input.telegramId, tariffId: null });
  if (!target.active) return 'no_access';
  return telegram().notify({
    kind: 'activated',
    telegramId: input.telegramId,
    language: target.language,
    subscriptionId: target.active.subscriptionId,
    resendId: input.resendId,
  });
}
