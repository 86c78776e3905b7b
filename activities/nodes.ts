import { ApplicationFailure, asyncLocalStorage } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  type NodeConnection,
  type NodeDriver,
  NodeDriverError,
  NodeUnreachableError,
  createNodeDriver,
} from '../infra/nodes';
import { agedStrays, deviceEmailsOf, knownUnwanted, wantedClients } from '../infra/nodes/desired-state';
import { type AccessNodesMode, accessNodesModeFromEnv } from '../infra/fleet/access-nodes';
import { removeFromOtherNodes } from './access-removal';
import { collectNodeUsage } from '../infra/quota/usage';
import { mapNodeSecrets, type NodeSecrets, nodeSecretsFromEnv } from '../infra/nodes/secrets';
import { Failure } from '../workflows/failures';

export interface NodeDeps {
  orm: MikroORM;
  onNodeStatus?: (node: { name: string; up: boolean; clients: number }) => void;
  /** A node that went down or came back up in this round (ops alerts); its failure never fails the check. */
  onNodeTransition?: (t: { id: string; name: string; to: 'up' | 'down'; error?: string }) => Promise<unknown>;
  /** Tests and the worker may share drivers; by default one is made (and cached) per node row. */
  driverFor?: (node: NodeConnection) => NodeDriver;
  /** Decrypts agent tokens and SSH keys; by default from NODE_SECRETS_KEY / NODE_SECRETS_KEY_OLD. */
  secrets?: NodeSecrets;
  /** ACCESS_NODES (infra/fleet/access-nodes.ts); by default from the environment. */
  accessNodes?: AccessNodesMode;
}

/** What one reconcile round did on one node (also kept as a node_reconciles row). */
export interface ReconcileResult {
  /** False when the node row is gone or disabled: the per-node workflow then stops. */
  exists: boolean;
  desired: number;
  added: number;
  removed: number;
  /** Unknown clients left on the node until their grace period is over. */
  pendingStrays: number;
}

/** Unknown clients stay this long before the reconcile removes them (a purchase commits well within it). */
export const DEFAULT_STRAY_GRACE_MS = 60 * 60_000;

/** Per node and round: a node that accepts connections but never answers costs this long, no more. */
export const DEFAULT_NODE_CHECK_TIMEOUT_MS = 10_000;
/** Nodes checked at the same time in one round. */
export const NODE_CHECK_CONCURRENCY = 16;

export const NODE_COLUMNS = `id, driver, agent_url as "agentUrl", agent_token as "agentToken", agent_cert_sha256 as "agentCertSha256", ssh`;

/** A stored row with its secrets decrypted: what a driver needs. */
export function connectionOf(row: Record<string, unknown>, secrets: NodeSecrets): NodeConnection {
  const opened = mapNodeSecrets(
    { agent_token: row.agentToken as string | null, ssh: row.ssh as Record<string, unknown> | null },
    (value, field) => secrets.open(value, field),
  );
  return { ...(row as unknown as NodeConnection), agentToken: opened.agent_token, ssh: opened.ssh as never };
}

/** What vpn_nodes.last_error keeps: a short classified cause, never a remote body. */
export function lastErrorOf(err: unknown): string {
  const text = err instanceof NodeDriverError ? err.reason : String((err as Error)?.message ?? err);
  return text.slice(0, 200);
}

/** Rejects with a NodeUnreachableError("timeout") if `work` takes longer than `ms`. */
export function withDeadline<T>(work: Promise<T>, ms: number, nodeId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new NodeUnreachableError(`node ${nodeId}: check timed out`, nodeId, { reason: 'timeout' })),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** VPN nodes, through their agent or SSH. Adds and removes are idempotent by the client email (= subscription id). */
export function createNodeActivities({
  orm,
  driverFor,
  onNodeStatus,
  onNodeTransition,
  secrets: given,
  accessNodes = accessNodesModeFromEnv(),
}: NodeDeps) {
  const transition = (t: Parameters<NonNullable<NodeDeps['onNodeTransition']>>[0]) =>
    onNodeTransition?.(t).catch(() => undefined);
  const secrets = given ?? nodeSecretsFromEnv(process.env);
  const cache = new Map<string, { key: string; driver: NodeDriver }>();
  const defaultDriver = (node: NodeConnection) => {
    const key = JSON.stringify(node);
    const hit = cache.get(node.id);
    if (hit?.key === key) return hit.driver;
    void hit?.driver.close();
    const driver = createNodeDriver(node);
    cache.set(node.id, { key, driver });
    return driver;
  };
  /** A node that missed its deadline may hold a wedged connection: start afresh next time. */
  const forget = (nodeId: string) => {
    const hit = cache.get(nodeId);
    cache.delete(nodeId);
    void hit?.driver.close().catch(() => undefined);
  };

  async function driver(nodeId: string): Promise<NodeDriver> {
    const [row] = await orm.em
      .getConnection()
      .execute(`select ${NODE_COLUMNS} from vpn_nodes where id = ?`, [nodeId]);
    if (!row) throw ApplicationFailure.nonRetryable(`node ${nodeId} does not exist`, Failure.NodeRejected);
    try {
      return (driverFor ?? defaultDriver)(connectionOf(row, secrets));
    } catch (e) {
      // A record no driver can use (undecryptable secret, http agent_url) will not heal by retrying.
      throw ApplicationFailure.nonRetryable(`node ${nodeId}: ${lastErrorOf(e)}`, Failure.NodeRejected);
    }
  }

  /** The node's per-user totals, taken as deltas past our cursor (infra/quota/usage.ts): never twice. */
  async function recordTraffic(d: NodeDriver, nodeId: string): Promise<void> {
    await collectNodeUsage(orm, nodeId, d).catch(() => undefined);
  }

  /** Permanent node errors stop retries; transient ones are retried by the activity's policy. */
  const mapError = (err: unknown): unknown =>
    err instanceof NodeDriverError && !err.retryable
      ? ApplicationFailure.nonRetryable(err.message, Failure.NodeRejected)
      : err;

  /** Removes the emails from one node and reads its list back: throws while any is still there. */
  async function removeVerified(d: NodeDriver, nodeId: string, emails: string[]): Promise<void> {
    for (const e of emails) await d.removeClient(e);
    const left = await d.listClients();
    const still = left.filter((c) => emails.includes(c.email));
    if (still.length) throw new Error(`client ${still[0].email} is still on node ${nodeId}`);
  }

  /** A disabled node keeps only what is still wanted there (home accesses not yet moved off it). */
  async function cleanDisabledNode(nodeId: string): Promise<void> {
    const d = await driver(nodeId);
    await withDeadline(
      (async () => {
        const present = await d.listClients();
        const unwanted = await knownUnwanted(
          orm,
          nodeId,
          present.map((c) => c.email),
          accessNodes,
        );
        for (const e of unwanted) await d.removeClient(e);
      })(),
      DEFAULT_NODE_CHECK_TIMEOUT_MS,
      nodeId,
    );
  }

  return {
    async addClient({ nodeId, email, uuid }: { nodeId: string; email: string; uuid: string }): Promise<void> {
      const d = await driver(nodeId);
      await d.addClient({ email, uuid, flow: 'xtls-rprx-vision' }).catch((e) => {
        throw mapError(e);
      });
    },

    /**
     * Removes, then reads the node's list back: access is only "gone" when the node says so. An access's
     * devices go with its own key (a revoke revokes every device). An access that has ended (revoke,
     * expiry, refund, clawback) also leaves every other node it covered (./access-removal.ts): verified
     * on each node that answers; a node that does not is left to its reconcile. An access still active
     * (a purchase's spare client, a drain) leaves only this node.
     */
    async removeClient({ nodeId, email }: { nodeId: string; email: string }): Promise<void> {
      const d = await driver(nodeId);
      const emails = [email, ...(await deviceEmailsOf(orm, email))];
      try {
        await removeVerified(d, nodeId, emails);
      } catch (e) {
        throw mapError(e);
      }
      await removeFromOtherNodes(
        { orm, mode: accessNodes, driver, removeVerified, deadline: withDeadline },
        { email, emails, except: nodeId },
      );
    },

    /**
     * Makes the node's client list equal to the desired state: adds what is missing (or has another
     * uuid), removes what we know must go at once and unknown strays after `strayGraceMs`. One round
     * refills a node whose agent lost its store. Recorded as a node_reconciles row.
     */
    async reconcileNode({
      nodeId,
      strayGraceMs = DEFAULT_STRAY_GRACE_MS,
    }: {
      nodeId: string;
      strayGraceMs?: number;
    }): Promise<ReconcileResult> {
      const conn = orm.em.getConnection();
      const [node] = await conn.execute(`select status from vpn_nodes where id = ?`, [nodeId]);
      const gone = { exists: false, desired: 0, added: 0, removed: 0, pendingStrays: 0 };
      if (!node) return gone;
      if (node.status === 'disabled') {
        // Its last round: the clients other nodes' accesses had here (their locations) go, best-effort.
        await cleanDisabledNode(nodeId).catch(() => undefined);
        return gone;
      }
      const d = await driver(nodeId);
      try {
        const [wanted, present] = await Promise.all([
          wantedClients(orm, nodeId, accessNodes),
          d.listClients(),
        ]);
        const have = new Map(present.map((c) => [c.email, c.uuid]));
        const wantedEmails = new Set(wanted.map((c) => c.email));
        let added = 0;
        for (const c of wanted) {
          if (have.get(c.email) === c.uuid) continue;
          await d.addClient({ email: c.email, uuid: c.uuid, flow: 'xtls-rprx-vision' });
          added++;
        }
        const strays = present.map((c) => c.email).filter((e) => !wantedEmails.has(e));
        const unwanted = await knownUnwanted(orm, nodeId, strays, accessNodes);
        const unknown = strays.filter((e) => !unwanted.has(e));
        const aged = await agedStrays(orm, nodeId, unknown, strayGraceMs);
        const remove = [...unwanted, ...aged];
        for (const e of remove) await d.removeClient(e);
        const result = {
          exists: true,
          desired: wanted.length,
          added,
          removed: remove.length,
          pendingStrays: unknown.length - aged.size,
        };
        const after = new Set([...have.keys(), ...wantedEmails]).size - remove.length;
        await conn.execute(`update vpn_nodes set client_count = ? where id = ?`, [after, nodeId]);
        await conn.execute(
          `insert into node_reconciles (node_id, added, removed, desired) values (?, ?, ?, ?)`,
          [nodeId, added, remove.length, wanted.length],
        );
        return result;
      } catch (e) {
        throw mapError(e);
      }
    },

    /**
     * One health round: up/down with hysteresis, and our client counts set to each node's real list.
     * Nodes are checked in parallel, each under its own deadline, and the activity heartbeats its
     * progress: dead nodes that accept connections but never answer cannot starve the others.
     */
    async checkNodes({
      failuresToDown,
      perNodeTimeoutMs = DEFAULT_NODE_CHECK_TIMEOUT_MS,
    }: {
      failuresToDown: number;
      perNodeTimeoutMs?: number;
    }): Promise<{ up: number; down: number }> {
      const conn = orm.em.getConnection();
      const rows = await conn.execute(
        `select ${NODE_COLUMNS}, name, status, consecutive_failures from vpn_nodes where status <> 'disabled'`,
      );
      const context = asyncLocalStorage.getStore(); // undefined when called outside a worker (tests)
      let up = 0;
      let checked = 0;
      const beat = () => context?.heartbeat({ checked, total: rows.length });
      beat();
      const beating = setInterval(beat, 1_000);

      const checkOne = async (row: Record<string, unknown>): Promise<number> => {
        // Inside the check: a node whose record cannot make a driver (bad host_key, no agent_url) is a
        // failing node, not a reason to skip every other node's check and reconcile.
        const d = (driverFor ?? defaultDriver)(connectionOf(row, secrets));
        const health = await d.health();
        if (!health.ok) throw new Error('xray is not reachable on the node');
        const clients = await d.listClients();
        await recordTraffic(d, String(row.id));
        return clients.length;
      };

      try {
        await eachLimited(rows, NODE_CHECK_CONCURRENCY, async (row) => {
          const id = String(row.id);
          try {
            const clients = await withDeadline(
              Promise.resolve().then(() => checkOne(row)),
              perNodeTimeoutMs,
              id,
            );
            await conn.execute(
              `update vpn_nodes set status = 'up', consecutive_failures = 0, client_count = ?, last_health_check = now(), last_error = null
                where id = ? and status <> 'disabled'`,
              [clients, id],
            );
            onNodeStatus?.({ name: String(row.name), up: true, clients });
            if (row.status === 'down') await transition({ id, name: String(row.name), to: 'up' });
            up++;
          } catch (err) {
            if (err instanceof NodeUnreachableError && err.reason === 'timeout') forget(id);
            // Incremented in SQL, so overlapping rounds never lose a failure.
            const [updated] = await conn.execute(
              `update vpn_nodes set consecutive_failures = consecutive_failures + 1,
                      status = case when consecutive_failures + 1 >= ? then 'down' else status end,
                      last_health_check = now(), last_error = ?
                where id = ? and status <> 'disabled' returning status`,
              [failuresToDown, lastErrorOf(err), id],
            );
            const status = updated?.status ?? row.status;
            onNodeStatus?.({ name: String(row.name), up: status === 'up', clients: 0 });
            if (status === 'down' && row.status !== 'down') {
              await transition({ id, name: String(row.name), to: 'down', error: lastErrorOf(err) });
            }
          } finally {
            checked++;
          }
        });
      } finally {
        clearInterval(beating);
      }
      beat();
      return { up, down: rows.length - up };
    },
  };
}
