import { ApplicationFailure, condition, sleep } from '@temporalio/workflow';
import { purchaseDatabase as db, nodes, spareRemoval } from '../activity-options';
import { Failure } from '../failures';
import { enterStage, errorMessage, type Purchase } from './state';

/** How long a spare client (from a purchase that lost a race) is retried before ops are left to remove it. */
const SPARE_REMOVAL_LIMIT_MS = 7 * 24 * 3_600_000;

/**
 * Puts the client on a node. No healthy node with room: wait with backoff and alert ops. A node that fails
 * AddClient (after its own retries) is set aside and another is tried. Past the bound, give up (the caller refunds).
 */
export async function placeClient(p: Purchase, client: { email: string; uuid: string }): Promise<string> {
  const { input } = p;
  const giveUpAt = Date.now() + input.nodeWaitLimitMs;
  const excluded: string[] = [];
  let delay = 5_000;
  for (let attempt = 1; ; attempt++) {
    giveUpIfOperatorRefunds(p);
    // The payment id holds the slot until the grant, so concurrent purchases cannot share a last slot.
    const nodeId = await p.steps.db.selectNode({
      location: input.tariff.location ?? null,
      exclude: excluded,
      holder: input.paymentId,
    });
    if (nodeId) {
      p.status.nodeId = nodeId;
      enterStage(p, 'PROVISIONING'); // ops see which node the purchase waits on
      try {
        await nodes.addClient({ nodeId, ...client });
        return nodeId;
      } catch (err) {
        // Purchases started before this change refunded right here; replaying them must do the same.
        if (!p.has('add-client-on-another-node')) throw err;
        excluded.push(nodeId);
        await p.steps.db.raiseOpsAlert({
          kind: 'add_client_failed',
          detail: `node ${nodeId}: ${errorMessage(err)}`,
        });
        if (Date.now() >= giveUpAt) throw err;
        continue;
      }
    }
    await p.steps.db.raiseOpsAlert({
      kind: 'no_node_available',
      detail: `purchase ${input.paymentId}, attempt ${attempt}`,
    });
    if (Date.now() + delay > giveUpAt) {
      throw ApplicationFailure.create({
        type: Failure.NoNodeAvailable,
        message: 'no healthy VPN node with free capacity',
        nonRetryable: true,
      });
    }
    // The same timer as a sleep; an operator's "skip to refund" ends the wait early.
    await condition(() => p.operatorRefund !== undefined, delay);
    delay = Math.min(delay * 2, 5 * 60_000);
    // Setting a failed node aside is a preference: once nothing else is left, it gets another chance.
    excluded.length = 0;
  }
}

/** An operator asked to refund instead of waiting for a node: the purchase's refund path takes over. */
function giveUpIfOperatorRefunds(p: Purchase): void {
  const request = p.operatorRefund;
  if (!request) return;
  throw ApplicationFailure.create({
    type: Failure.OperatorRefund,
    message: `refunded by ${request.admin}: ${request.reason}`,
    nonRetryable: true,
  });
}

/** One quick try at dropping the spare client; the node's id when it is still there. */
export async function removeSpare(
  nodeId: string,
  email: string,
  paymentId: string,
): Promise<string | undefined> {
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
export async function removeSpareInBackground(
  nodeId: string,
  email: string,
  paymentId: string,
): Promise<void> {
  const giveUpAt = Date.now() + SPARE_REMOVAL_LIMIT_MS;
  for (let delay = 5_000; Date.now() < giveUpAt; delay = Math.min(delay * 2, 30 * 60_000)) {
    await sleep(delay);
    if (!(await removeSpare(nodeId, email, paymentId))) return;
  }
}
