import { lifetime, nodes, planChange } from '../activity-options';
import { placeClient, removeSpare, removeSpareInBackground } from './placement';
import { enterStage, errorMessage, notify, type Purchase } from './state';

// Purpose `upgrade` (issue 13): a paid plan change applied to the running access instead of a new grant.
// Same key everywhere: the client keeps its UUID; a change of location places it (and its devices) on a node
// there first, commits, and only then removes it from the old node. A failure before the commit throws, and the
// purchase refunds the payment (its usual step 7).

export interface UpgradeResult {
  outcome: 'changed';
  subscriptionId: string;
  expiresAt: string;
}

/** Step 4d. The new tariff on the running access, now; its lifetime gets the new end. */
export async function applyUpgrade(p: Purchase): Promise<UpgradeResult> {
  const paymentId = p.input.paymentId;
  const plan = await planChange.beginUpgrade({ paymentId });
  let placedOn: string | undefined;
  let done: Awaited<ReturnType<typeof planChange.commitUpgrade>>;
  try {
    if (plan.move && !plan.applied) {
      const [own, ...devices] = plan.clients;
      placedOn = await placeClient(p, own);
      for (const device of devices) await nodes.addClient({ nodeId: placedOn, ...device });
    }
    done = await planChange.commitUpgrade({ paymentId, nodeId: placedOn ?? null });
  } catch (err) {
    // Not committed: the clients placed for the move go again (best effort), the caller refunds.
    if (placedOn)
      for (const c of plan.clients)
        await removeSpare(placedOn, c.email, paymentId).catch((e) => {
          p.status.lastError = errorMessage(e);
        });
    throw err;
  }
  p.status.subscriptionId = done.subscriptionId;
  p.status.expiresAt = done.expiresAt;
  // The new end may be earlier than the old one (several renewals stacked): the lifetime takes it as it is.
  await lifetime.scheduleLifetime({ subscriptionId: done.subscriptionId, endMovedBack: true });
  enterStage(p, 'NOTIFYING');
  await notify(p, { kind: 'extended', paymentId, subscriptionId: done.subscriptionId });
  enterStage(p, 'COMPLETED');
  if (placedOn) {
    // Committed: the old node's copies must go, verified by the node's answer; retried in the background.
    const left = [];
    for (const c of plan.clients) if (await removeSpare(plan.nodeId, c.email, paymentId)) left.push(c);
    for (const c of left) await removeSpareInBackground(plan.nodeId, c.email, paymentId);
  }
  return { outcome: 'changed', subscriptionId: done.subscriptionId, expiresAt: done.expiresAt };
}
