import { ApplicationFailure, sleep, uuid4 } from '@temporalio/workflow';
import { purchaseDatabase as db, grants, lifetime, nodes } from './activity-options';
import { Failure } from './failures';
import type { DaysGrant, GrantResult } from './gift-messages';

// Days nobody paid for at this moment (a gift claim, a referral bonus or welcome): the same access rules as a
// purchase. Extend the running access, or place a new client and record a new access; the grant row is the "once".

/** Grants once; null when there is nothing to grant (0 days, a bonus taken back). */
export async function grantDays(grant: DaysGrant, nodeWaitLimitMs: number): Promise<GrantResult | null> {
  const first = await grants.extendForGrant({ grant });
  if (!first) return null;
  let result: GrantResult | null;
  if (first.kind === 'needs_access') {
    const subscriptionId = uuid4();
    const clientUuid = uuid4();
    const nodeId = await placeClient(
      first.location,
      { email: subscriptionId, uuid: clientUuid },
      nodeWaitLimitMs,
    );
    result = await grants.activateForGrant({ grant, subscriptionId, clientUuid, nodeId });
    // Another grant or purchase made an access first: ours extended it, so our fresh client goes.
    if (result?.subscriptionId !== subscriptionId) {
      await nodes.removeClient({ nodeId, email: subscriptionId }).catch(() =>
        db.raiseOpsAlert({
          kind: 'spare_client_left',
          detail: `grant ${JSON.stringify(grant)}: client ${subscriptionId} on node ${nodeId}`,
        }),
      );
    }
  } else {
    result = first;
  }
  if (result) await lifetime.scheduleLifetime({ subscriptionId: result.subscriptionId });
  return result;
}

/** A healthy node with room (the tariff's location first); waits with backoff and alerts while there is none. */
async function placeClient(
  location: string | null,
  client: { email: string; uuid: string },
  waitLimitMs: number,
): Promise<string> {
  const giveUpAt = Date.now() + waitLimitMs;
  const excluded: string[] = [];
  for (let delay = 5_000, attempt = 1; ; attempt++) {
    const nodeId = await db.selectNode({ location, exclude: excluded });
    if (nodeId) {
      try {
        await nodes.addClient({ nodeId, ...client });
        return nodeId;
      } catch (err) {
        excluded.push(nodeId);
        await db.raiseOpsAlert({ kind: 'add_client_failed', detail: `node ${nodeId}: ${String(err)}` });
        continue;
      }
    }
    await db.raiseOpsAlert({ kind: 'no_node_available', detail: `grant of days, attempt ${attempt}` });
    if (Date.now() + delay > giveUpAt) {
      throw ApplicationFailure.create({
        type: Failure.NoNodeAvailable,
        message: 'no healthy VPN node with free capacity',
        nonRetryable: true,
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 5 * 60_000);
    excluded.length = 0;
  }
}
