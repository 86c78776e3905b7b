import type { Client } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { lockSelection, releaseReservation, selectAndReserve } from '../infra/fleet/capacity';
import { drainSummary } from '../workflows/summaries';
import type { OpsAlerter } from '../infra/ops-alerts';
import { drainIncompleteAlert } from '../infra/fleet/drain-alert';
import {
  drainWorkflowId,
  type DrainInput,
  type DrainProgress,
  type MoveOutcome,
  DRAIN_WORKFLOW_TYPE,
} from '../workflows/drain-messages';
import { createNodeActivities, type NodeDeps } from './nodes';

export interface FleetDeps {
  orm: MikroORM;
  logger: Logger;
  driverFor?: NodeDeps['driverFor'];
  /** Starts automatic drains (NODE_DEAD_MIGRATE_AFTER); absent in tests that only move accesses. */
  temporal?: Client;
  /** NODE_DEAD_MIGRATE_AFTER in ms; 0 or absent: nodes are never drained automatically. */
  deadMigrateAfterMs?: number;
  /** Ops alerts to the admin chat (drain_incomplete, node_dead_drained); absent: log lines only. */
  alerter?: OpsAlerter;
}

// biome-ignore lint/suspicious/noExplicitAny: raw SQL rows are untyped at this boundary
type Row = Record<string, any>;
type Query = (query: string, params?: unknown[]) => Promise<Row[]>;

/**
 * Drains: move every access off a node onto another node of its location, durably and once each.
 * `node_drain_moves` (unique per node + access) makes every step safe to repeat after a crash.
 */
export function createFleetActivities({
  orm,
  logger,
  driverFor,
  temporal,
  deadMigrateAfterMs,
  alerter,
}: FleetDeps) {
  const nodes = createNodeActivities({ orm, driverFor });
  const sql = (query: string, params: unknown[] = []) => orm.em.getConnection().execute(query, params);
  const inTx = <T>(fn: (q: Query) => Promise<T>) =>
    orm.em
      .fork()
      .transactional(async (em) =>
        fn((query, params = []) =>
          em.getConnection().execute(query, params, 'all', em.getTransactionContext()),
        ),
      );

  async function progress(nodeId: string): Promise<Omit<DrainProgress, 'state'>> {
    const [row] = await sql(
      `select (select count(*) from node_drain_moves where node_id = ? and state = 'moved')::int as moved,
              (select count(*) from node_drain_moves where node_id = ? and state = 'failed')::int as failed,
              (select count(*) from subscriptions s where s.node_id = ? and s.status = 'active'
                  and not exists (select 1 from node_drain_moves m where m.node_id = s.node_id and m.subscription_id = s.id))::int as remaining`,
      [nodeId, nodeId, nodeId],
    );
    return { moved: row.moved, failed: row.failed, remaining: row.remaining };
  }

  async function recordFailed(nodeId: string, subscriptionId: string, error: string): Promise<void> {
    await sql(
      `insert into node_drain_moves (node_id, subscription_id, state, error) values (?, ?, 'failed', ?)
         on conflict (node_id, subscription_id) do nothing`,
      [nodeId, subscriptionId, error.slice(0, 500)],
    );
  }

  /**
   * A drain that ended with accesses it could not move: one message to the admin chat per drain (the key
   * names the drain's start, so a retried finish is held back, and the next drain of the node alerts anew).
   */
  async function alertIncomplete(nodeId: string, failed: number): Promise<void> {
    const [row] = await sql(
      `select n.name, n.location, d.started_at,
              (select error from node_drain_moves m where m.node_id = n.id and m.state = 'failed'
                order by m.created_at desc limit 1) as error
         from vpn_nodes n join node_drains d on d.node_id = n.id where n.id = ?`,
      [nodeId],
    );
    const alert = drainIncompleteAlert({
      nodeId,
      nodeName: String(row?.name ?? nodeId),
      startedAt: new Date(row?.started_at ?? 0),
      failed,
      error: row?.error ? String(row.error) : null,
    });
    if (!alerter) {
      logger.error({ alert: alert.kind, nodeId, failed }, `ops alert: ${alert.kind}`);
      return;
    }
    // The drain's outcome is recorded already; an alert that cannot be sent must not undo or repeat it.
    await alerter
      .raise(alert)
      .catch((err) => logger.warn({ err, nodeId }, 'drain_incomplete alert not sent'));
  }

  return {
    /** The node leaves selection and the drain is recorded as running; a new drain retries earlier failures. */
    async beginDrain({
      nodeId,
      workflowId,
      reason,
      resumed,
    }: {
      nodeId: string;
      workflowId: string;
      reason: string;
      resumed: boolean;
    }): Promise<{ exists: boolean }> {
      return inTx(async (q) => {
        const [node] = await q(
          `update vpn_nodes set draining_at = coalesce(draining_at, now()) where id = ? returning id`,
          [nodeId],
        );
        if (!node) return { exists: false };
        await q(
          `insert into node_drains (node_id, workflow_id, reason) values (?, ?, ?)
             on conflict (node_id) do update set workflow_id = excluded.workflow_id, reason = excluded.reason,
               state = 'running', started_at = case when node_drains.state = 'running' then node_drains.started_at else now() end,
               finished_at = null`,
          [nodeId, workflowId, reason],
        );
        if (!resumed)
          await q(`delete from node_drain_moves where node_id = ? and state = 'failed'`, [nodeId]);
        return { exists: true };
      });
    },

    /** The next accesses still on the node (not yet moved or failed), and the counts so far. */
    async drainBatch({
      nodeId,
      limit,
    }: {
      nodeId: string;
      limit: number;
    }): Promise<{ subscriptionIds: string[] } & Omit<DrainProgress, 'state'>> {
      const rows = await sql(
        `select s.id from subscriptions s where s.node_id = ? and s.status = 'active'
            and not exists (select 1 from node_drain_moves m where m.node_id = s.node_id and m.subscription_id = s.id)
          order by s.id limit ?`,
        [nodeId, limit],
      );
      return { subscriptionIds: rows.map((r) => String(r.id)), ...(await progress(nodeId)) };
    },

    /**
     * Moves one access: a slot on another node of the same location (reserved like a purchase's), its key and
     * devices added there, then the database switched in one transaction, then the old clients removed.
     * Repeating it after a crash finds the move already done, or does it once.
     */
    async moveAccess({
      nodeId,
      subscriptionId,
    }: {
      nodeId: string;
      subscriptionId: string;
    }): Promise<MoveOutcome> {
      const [sub] = await sql(
        `select s.status, s.node_id, s.client_email, s.client_uuid, n.location, u.telegram_id, u.language,
                m.state as moved_state, m.to_node_id
           from subscriptions s join users u on u.id = s.user_id join vpn_nodes n on n.id = ?
           left join node_drain_moves m on m.node_id = n.id and m.subscription_id = s.id
          where s.id = ?`,
        [nodeId, subscriptionId],
      );
      if (!sub) return { outcome: 'gone' };
      const told = { telegramId: String(sub.telegram_id), language: String(sub.language ?? 'ru') };
      if (sub.moved_state === 'moved') return { outcome: 'moved', toNodeId: String(sub.to_node_id), ...told };
      if (sub.moved_state === 'failed') return { outcome: 'failed', error: 'failed earlier in this drain' };
      if (sub.status !== 'active' || sub.node_id !== nodeId) return { outcome: 'gone' };

      const holder = `move-${subscriptionId}`;
      const target = await selectAndReserve(orm, { location: sub.location, exclude: [nodeId], holder });
      if (!target) {
        const error = `no healthy node with room in ${sub.location}`;
        await recordFailed(nodeId, subscriptionId, error);
        return { outcome: 'failed', error };
      }
      const devices = await sql(
        `select client_email, client_uuid from devices where subscription_id = ? and removed_at is null`,
        [subscriptionId],
      );
      // Idempotent by email: a retry re-adds nothing. If the switch below does not happen, the reconcile of
      // the target removes these clients at once (the database says the access is elsewhere).
      for (const c of [sub, ...devices])
        await nodes.addClient({ nodeId: target, email: String(c.client_email), uuid: String(c.client_uuid) });

      const switched = await inTx(async (q) => {
        const [row] = await q(
          `update subscriptions set node_id = ?, updated_at = now() where id = ? and node_id = ? and status = 'active' returning id`,
          [target, subscriptionId, nodeId],
        );
        await releaseReservation(q, holder);
        if (!row) return false;
        await q(
          `insert into node_drain_moves (node_id, subscription_id, to_node_id, state) values (?, ?, ?, 'moved')`,
          [nodeId, subscriptionId, target],
        );
        await q(`insert into subscription_events (subscription_id, type, data) values (?, 'moved', ?)`, [
          subscriptionId,
          JSON.stringify({ from_node_id: nodeId, to_node_id: target }),
        ]);
        await q(`update vpn_nodes set client_count = client_count + 1 where id = ?`, [target]);
        await q(`update vpn_nodes set client_count = greatest(client_count - 1, 0) where id = ?`, [nodeId]);
        return true;
      });
      if (!switched) return { outcome: 'gone' };
      // The old node may be dead (an automatic drain): its clients are removed by finishDrain, best effort.
      await nodes.removeClient({ nodeId, email: String(sub.client_email) }).catch((err) => {
        logger.warn({ nodeId, subscriptionId, err: String(err) }, 'old client not removed yet');
      });
      return { outcome: 'moved', toNodeId: target, ...told };
    },

    /** A move that kept failing: counted as failed, the access stays where it is. */
    async recordMoveFailed({
      nodeId,
      subscriptionId,
      error,
    }: {
      nodeId: string;
      subscriptionId: string;
      error: string;
    }): Promise<void> {
      await recordFailed(nodeId, subscriptionId, error);
    },

    /**
     * Ends the drain when nothing is left on the node: no active access (a purchase that selected the node
     * just before the drain may still have committed one) and no live reservation. Without failures the node
     * becomes `disabled`; with failures it stays out of selection, still carrying those accesses.
     */
    async finishDrain({ nodeId }: { nodeId: string }): Promise<{ state: 'again' } | DrainProgress> {
      const result = await inTx(async (q) => {
        await lockSelection(q); // no purchase can take a slot here while we look
        const [left] = await q(
          `select (select count(*) from subscriptions s where s.node_id = ? and s.status = 'active'
                      and not exists (select 1 from node_drain_moves m where m.node_id = s.node_id and m.subscription_id = s.id and m.state = 'failed'))::int as open,
                  (select count(*) from node_reservations where node_id = ? and expires_at > now())::int as held,
                  (select count(*) from node_drain_moves where node_id = ? and state = 'failed')::int as failed`,
          [nodeId, nodeId, nodeId],
        );
        if (left.open > 0 || left.held > 0) return { state: 'again' as const };
        const state = left.failed > 0 ? ('failed' as const) : ('done' as const);
        if (state === 'done') await q(`update vpn_nodes set status = 'disabled' where id = ?`, [nodeId]);
        await q(`update node_drains set state = ?, finished_at = now() where node_id = ?`, [state, nodeId]);
        return { state };
      });
      if (result.state === 'again') return result;
      const counts = await progress(nodeId);
      if (result.state === 'failed') await alertIncomplete(nodeId, counts.failed);
      return { state: result.state, ...counts };
    },

    /** After the node is out: every moved access's old clients (and devices) off it, checked by listing. */
    async clearDrainedNode({ nodeId }: { nodeId: string }): Promise<{ cleared: number }> {
      const rows = await sql(
        `select s.client_email from node_drain_moves m join subscriptions s on s.id = m.subscription_id
          where m.node_id = ? and m.state = 'moved'`,
        [nodeId],
      );
      for (const r of rows) await nodes.removeClient({ nodeId, email: String(r.client_email) });
      return { cleared: rows.length };
    },

    /**
     * NODE_DEAD_MIGRATE_AFTER: starts `drain-<node id>` for every node down longer than `afterMs` that is not
     * drained yet. A running drain is left alone (USE_EXISTING); the drain's own steps are idempotent.
     */
    async drainDeadNodes({
      taskQueue,
      afterMs = deadMigrateAfterMs,
    }: {
      taskQueue: string;
      afterMs?: number;
    }): Promise<string[]> {
      if (!temporal || !afterMs) return [];
      const rows = await sql(
        `select id, name, location from vpn_nodes where status = 'down' and down_since <= now() - make_interval(secs => ?)
            and draining_at is null`,
        [afterMs / 1000],
      );
      const started: string[] = [];
      for (const r of rows) {
        const nodeId = String(r.id);
        const summary = drainSummary({ nodeId, nodeName: r.name, location: r.location, reason: 'dead' });
        const input: DrainInput = { nodeId, reason: 'dead', summary };
        await temporal.workflow.start(DRAIN_WORKFLOW_TYPE, {
          workflowId: drainWorkflowId(input.nodeId),
          taskQueue,
          args: [input],
          staticSummary: summary,
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        const detail = `node ${input.nodeId} down longer than NODE_DEAD_MIGRATE_AFTER: drain ${drainWorkflowId(input.nodeId)} started`;
        if (alerter)
          await alerter
            .raise({ kind: 'node_dead_drained', key: `node_dead_drained:${input.nodeId}`, detail })
            .catch((err) => logger.warn({ err, nodeId: input.nodeId }, 'node_dead_drained alert not sent'));
        else
          logger.warn({ alert: 'node_dead_drained', nodeId: input.nodeId }, 'ops alert: node_dead_drained');
        started.push(input.nodeId);
      }
      return started;
    },
  };
}
