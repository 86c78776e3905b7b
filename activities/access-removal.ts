import type { MikroORM } from '@mikro-orm/postgresql';
import { asyncLocalStorage, log } from '@temporalio/activity';
import { type AccessNodesMode, nodesOfAccess } from '../infra/fleet/access-nodes';
import { type NodeDriver, NodeDriverError, NodeUnreachableError } from '../infra/nodes';

/**
 * An ended access leaves every node it covered, not just the one a workflow names (its home node).
 *
 * Each node is tried at once, each under its own deadline. A node that answers must confirm the clients are
 * gone (else the activity fails and is retried: the revoke stays "verified"). A node that does not answer
 * (down, unreachable, 5xx, past the deadline) does not hold the revoke: the access is no longer wanted
 * there, so that node's reconcile removes the clients the moment it answers again.
 */
export interface RemovalDeps {
  orm: MikroORM;
  mode: AccessNodesMode;
  driver: (nodeId: string) => Promise<NodeDriver>;
  removeVerified: (d: NodeDriver, nodeId: string, emails: string[]) => Promise<void>;
  deadline: <T>(work: Promise<T>, ms: number, nodeId: string) => Promise<T>;
}

/** Per other node; well inside the removal activity's 20 s. */
const OTHER_NODE_TIMEOUT_MS = 6_000;

/** Is the access over (not active, or suspended)? Only then do its clients go from every node. */
async function accessEnded(orm: MikroORM, email: string): Promise<string | null> {
  const [row] = await orm.em
    .getConnection()
    .execute(`select id, status, suspended_at from subscriptions where client_email = ?`, [email]);
  if (!row) return null; // a purchase's spare client: no access, nothing elsewhere
  return row.status !== 'active' || row.suspended_at !== null ? String(row.id) : null;
}

export async function removeFromOtherNodes(
  deps: RemovalDeps,
  target: { email: string; emails: string[]; except: string },
): Promise<{ removed: string[]; skipped: string[] }> {
  const subscriptionId = await accessEnded(deps.orm, target.email);
  if (!subscriptionId) return { removed: [], skipped: [] };
  const others = (await nodesOfAccess(deps.orm, subscriptionId, deps.mode)).filter(
    (n) => n.id !== target.except,
  );
  const removed: string[] = [];
  const skipped: string[] = [];
  const refused: Error[] = [];
  await Promise.all(
    others.map(async (n) => {
      try {
        const d = await deps.driver(n.id);
        await deps.deadline(deps.removeVerified(d, n.id, target.emails), OTHER_NODE_TIMEOUT_MS, n.id);
        removed.push(n.id);
      } catch (e) {
        // A node marked down or disabled, or one that does not answer: its reconcile finishes the job.
        if (n.status !== 'up' || e instanceof NodeUnreachableError) {
          skipped.push(n.id);
          // The activity's logger only exists inside an activity (tests call this directly).
          if (asyncLocalStorage.getStore())
            log.warn('revoke: node not reachable, its reconcile removes the clients', {
              nodeId: n.id,
              subscriptionId,
              error: String((e as Error).message).slice(0, 200),
            });
          return;
        }
        refused.push(e instanceof NodeDriverError || e instanceof Error ? e : new Error(String(e)));
      }
    }),
  );
  if (refused.length) throw refused[0];
  return { removed, skipped };
}
