import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createNodeDriver, type NodeConnection, type NodeDriver } from '../infra/nodes';
import { nodeSecretsFromEnv, type NodeSecrets } from '../infra/nodes/secrets';
import { type EnforceResult, enforceQuota, markNoticeDone } from '../infra/quota/enforce';
import { addTrafficPack, type PackResult } from '../infra/quota/packs';
import { applyNodeCounters } from '../infra/quota/usage';
import { Failure } from '../workflows/failures';
import { accessNodesModeFromEnv, nodesOfAccess } from '../infra/fleet/access-nodes';
import { connectionOf, lastErrorOf, NODE_COLUMNS } from './nodes';

export interface QuotaDeps {
  orm: MikroORM;
  logger?: Logger;
  driverFor?: (node: NodeConnection) => NodeDriver;
  secrets?: NodeSecrets;
}

/** Per node: a node that does not answer within this is skipped until the next round. */
const NODE_TIMEOUT_MS = 10_000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Traffic quota (issue 12): collect usage from every node, enforce the limits, and take a suspended
 * access's clients off the nodes / put a restored one's back. Used by workflows/quota.ts and by the
 * purchase's traffic-pack step.
 */
export function createQuotaActivities({ orm, logger, driverFor, secrets: given }: QuotaDeps) {
  const secrets = given ?? nodeSecretsFromEnv(process.env);
  const cache = new Map<string, { key: string; driver: NodeDriver }>();
  const sql = (q: string, p: unknown[] = []) => orm.em.getConnection().execute(q, p);

  function driverOf(row: Record<string, unknown>): NodeDriver {
    const conn = connectionOf(row, secrets);
    if (driverFor) return driverFor(conn);
    const key = JSON.stringify(conn);
    const hit = cache.get(conn.id);
    if (hit?.key === key) return hit.driver;
    void hit?.driver.close();
    const driver = createNodeDriver(conn);
    cache.set(conn.id, { key, driver });
    return driver;
  }

  async function nodesById(ids: string[]): Promise<Record<string, unknown>[]> {
    if (ids.length === 0) return [];
    return sql(
      `select ${NODE_COLUMNS} from vpn_nodes where id = any(string_to_array(?, ',')::uuid[]) and status <> 'disabled'`,
      [ids.join(',')],
    );
  }

  /** The access's own key and every device: the clients a suspension takes off. */
  async function clientsOf(subscriptionId: string) {
    const [s] = await sql(
      `select s.id, s.node_id, s.status, s.suspended_at, s.client_email, s.client_uuid from subscriptions s where s.id = ?`,
      [subscriptionId],
    );
    if (!s) return undefined;
    const devices = await sql(
      `select client_email, client_uuid, removed_at from devices where subscription_id = ?`,
      [subscriptionId],
    );
    const own = { email: String(s.client_email), uuid: String(s.client_uuid) };
    const live = devices
      .filter((d) => d.removed_at === null)
      .map((d) => ({ email: String(d.client_email), uuid: String(d.client_uuid) }));
    return { s, own, live, all: [own.email, ...devices.map((d) => String(d.client_email))] };
  }

  return {
    /** One round of usage collection from every node that is not disabled; an unreachable node waits. */
    async collectUsage(): Promise<{ nodes: number; failed: number; addedBytes: number }> {
      const rows = await sql(`select ${NODE_COLUMNS} from vpn_nodes where status <> 'disabled'`);
      let failed = 0;
      let addedBytes = 0;
      await Promise.all(
        rows.map(async (row) => {
          const id = String(row.id);
          try {
            const d = driverOf(row);
            const counters = await withTimeout(
              d.counters ? d.counters() : d.stats(false).then((stats) => ({ epoch: '', stats })),
              NODE_TIMEOUT_MS,
              `node ${id} stats`,
            );
            addedBytes += (await applyNodeCounters(orm, id, counters)).addedBytes;
          } catch (e) {
            failed++;
            logger?.warn({ nodeId: id, err: lastErrorOf(e) }, 'traffic collection failed on a node');
          }
        }),
      );
      return { nodes: rows.length, failed, addedBytes };
    },

    /** Period rollovers, suspensions and restores in one transaction; answers the notices to handle. */
    enforceQuota(): Promise<EnforceResult> {
      return enforceQuota(orm);
    },

    /**
     * Takes every client of a still-suspended access off every node it may be on: its own node and any
     * node that ever counted its traffic. Idempotent. A node that fails is left to its reconcile round
     * (the desired state excludes suspended accesses), so the answer says how many failed.
     */
    async cutOffAccess({
      subscriptionId,
    }: {
      subscriptionId: string;
    }): Promise<{ nodes: number; failed: number }> {
      const c = await clientsOf(subscriptionId);
      if (!c || c.s.suspended_at === null) return { nodes: 0, failed: 0 };
      const used = await sql(
        `select distinct node_id from traffic_cursors where email = any(string_to_array(?, ','))`,
        [c.all.join(',')],
      );
      // Every node the access covers (ACCESS_NODES) and any node that ever counted its traffic.
      const covered = await nodesOfAccess(orm, subscriptionId, accessNodesModeFromEnv());
      const ids = [
        ...new Set([String(c.s.node_id), ...covered.map((n) => n.id), ...used.map((r) => String(r.node_id))]),
      ];
      let failed = 0;
      const rows = await nodesById(ids);
      await Promise.all(
        rows.map(async (row) => {
          try {
            const d = driverOf(row);
            await withTimeout(
              (async () => {
                for (const email of c.all) await d.removeClient(email);
              })(),
              NODE_TIMEOUT_MS,
              `node ${row.id} cut off`,
            );
          } catch (e) {
            failed++;
            logger?.warn({ nodeId: row.id, subscriptionId, err: lastErrorOf(e) }, 'cut-off failed on a node');
          }
        }),
      );
      return { nodes: rows.length, failed };
    },

    /** Puts an active, unsuspended access's clients back on its node (retried on failure) and its other nodes. */
    async restoreAccess({ subscriptionId }: { subscriptionId: string }): Promise<{ restored: number }> {
      const c = await clientsOf(subscriptionId);
      if (c?.s.status !== 'active' || c.s.suspended_at !== null) return { restored: 0 };
      const [row] = await nodesById([String(c.s.node_id)]);
      if (!row) return { restored: 0 };
      const d = driverOf(row);
      for (const client of [c.own, ...c.live]) await d.addClient({ ...client, flow: 'xtls-rprx-vision' });
      // The access's other nodes (its locations), best-effort: their reconcile puts back what fails here.
      const others = (await nodesOfAccess(orm, subscriptionId, accessNodesModeFromEnv()))
        .filter((n) => !n.home && n.status === 'up')
        .map((n) => n.id);
      await Promise.all(
        (await nodesById(others)).map((other) =>
          withTimeout(
            (async () => {
              const od = driverOf(other);
              for (const client of [c.own, ...c.live])
                await od.addClient({ ...client, flow: 'xtls-rprx-vision' });
            })(),
            NODE_TIMEOUT_MS,
            `node ${other.id} restore`,
          ).catch((e) =>
            logger?.warn(
              { nodeId: other.id, subscriptionId, err: lastErrorOf(e) },
              'restore failed on a node',
            ),
          ),
        ),
      );
      return { restored: 1 + c.live.length };
    },

    async markNoticeDone({ id }: { id: string }): Promise<void> {
      await markNoticeDone(orm, id);
    },

    /** Purpose `traffic_pack`, paid: adds the pack once per payment; `added: false` = nothing to add to (refund). */
    async addTrafficPack({ paymentId }: { paymentId: string }): Promise<PackResult> {
      const r = await addTrafficPack(orm, paymentId);
      if (r.reason === 'not_a_pack')
        throw ApplicationFailure.nonRetryable(
          `payment ${paymentId} is not a traffic pack`,
          Failure.PaymentNotFound,
        );
      return r;
    },
  };
}
