import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type NodeConnection, type NodeDriver, NodeDriverError, createNodeDriver } from '../infra/nodes';

export interface NodeDeps {
  orm: MikroORM;
  onNodeStatus?: (node: { name: string; up: boolean; clients: number }) => void;
  /** Tests and the worker may share drivers; by default one is made (and cached) per node row. */
  driverFor?: (node: NodeConnection) => NodeDriver;
}

/** VPN nodes, through their agent or SSH. Adds and removes are idempotent by the client email (= subscription id). */
export function createNodeActivities({ orm, driverFor, onNodeStatus }: NodeDeps) {
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

  async function driver(nodeId: string): Promise<NodeDriver> {
    const [row] = await orm.em
      .getConnection()
      .execute(
        `select id, driver, agent_url as "agentUrl", agent_token as "agentToken", ssh from vpn_nodes where id = ?`,
        [nodeId],
      );
    if (!row) throw ApplicationFailure.nonRetryable(`node ${nodeId} does not exist`, 'NodeRejected');
    return (driverFor ?? defaultDriver)(row as NodeConnection);
  }

  /** The node's cumulative per-user bytes (the agent persists them) feed /sub's subscription-userinfo. */
  async function recordTraffic(d: NodeDriver): Promise<void> {
    const totals = await d.stats(false).catch(() => []);
    for (const t of totals) {
      await orm.em.getConnection().execute(
        `update subscriptions set upload_bytes = greatest(upload_bytes, ?), download_bytes = greatest(download_bytes, ?)
          where client_email = ?`,
        [t.uplink, t.downlink, t.email],
      );
    }
  }

  /** Permanent node errors stop retries; transient ones are retried by the activity's policy. */
  const mapError = (err: unknown): unknown =>
    err instanceof NodeDriverError && !err.retryable
      ? ApplicationFailure.nonRetryable(err.message, 'NodeRejected')
      : err;

  return {
    async addClient({ nodeId, email, uuid }: { nodeId: string; email: string; uuid: string }): Promise<void> {
      const d = await driver(nodeId);
      await d.addClient({ email, uuid, flow: 'xtls-rprx-vision' }).catch((e) => {
        throw mapError(e);
      });
    },

    /** Removes, then reads the node's list back: access is only "gone" when the node says so. */
    async removeClient({ nodeId, email }: { nodeId: string; email: string }): Promise<void> {
      const d = await driver(nodeId);
      try {
        await d.removeClient(email);
        const left = await d.listClients();
        if (left.some((c) => c.email === email))
          throw new Error(`client ${email} is still on node ${nodeId}`);
      } catch (e) {
        throw mapError(e);
      }
    },

    /** One health round: up/down with hysteresis, and our client counts set to each node's real list. */
    async checkNodes({ failuresToDown }: { failuresToDown: number }): Promise<{ up: number; down: number }> {
      const conn = orm.em.getConnection();
      const rows = await conn.execute(
        `select id, name, driver, agent_url as "agentUrl", agent_token as "agentToken", ssh, status, consecutive_failures
           from vpn_nodes where status <> 'disabled'`,
      );
      let up = 0;
      for (const row of rows) {
        try {
          // Inside the try: a node whose record cannot make a driver (bad host_key, no agent_url) is a
          // failing node, not a reason to skip every other node's check and reconcile.
          const d = (driverFor ?? defaultDriver)(row as NodeConnection);
          const health = await d.health();
          if (!health.ok) throw new Error('xray is not reachable on the node');
          const clients = await d.listClients();
          await conn.execute(
            `update vpn_nodes set status = 'up', consecutive_failures = 0, client_count = ?, last_health_check = now(), last_error = null
              where id = ? and status <> 'disabled'`,
            [clients.length, row.id],
          );
          await recordTraffic(d);
          onNodeStatus?.({ name: row.name, up: true, clients: clients.length });
          up++;
        } catch (err) {
          // Incremented in SQL, so overlapping rounds never lose a failure.
          const [updated] = await conn.execute(
            `update vpn_nodes set consecutive_failures = consecutive_failures + 1,
                    status = case when consecutive_failures + 1 >= ? then 'down' else status end,
                    last_health_check = now(), last_error = ?
              where id = ? and status <> 'disabled' returning status`,
            [failuresToDown, String((err as Error).message ?? err).slice(0, 500), row.id],
          );
          const status = updated?.status ?? row.status;
          onNodeStatus?.({ name: row.name, up: status === 'up', clients: 0 });
        }
      }
      return { up, down: rows.length - up };
    },
  };
}
