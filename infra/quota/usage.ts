import type { MikroORM } from '@mikro-orm/postgresql';
import type { NodeCounters, NodeDriver } from '../nodes/driver';

/** What one collection added: bytes newly counted on this node (0 for a repeated answer). */
export interface CollectResult {
  clients: number;
  addedBytes: number;
}

interface Cursor {
  epoch: string;
  uplink: number;
  downlink: number;
}

/**
 * The difference between a node's monotonic totals and our cursor for that client. A new epoch (the
 * agent's store was wiped or reset) means its totals restarted at zero: all of them are new. Within an
 * epoch totals only grow; a smaller total (a store restored from an older copy) counts nothing and the
 * cursor stays at its maximum, so bytes are never counted twice (at worst, a few are not counted).
 */
export function counterDelta(
  prev: Cursor | undefined,
  epoch: string,
  now: { uplink: number; downlink: number },
): { up: number; down: number; cursor: Cursor } {
  if (!prev || prev.epoch !== epoch) {
    return {
      up: now.uplink,
      down: now.downlink,
      cursor: { epoch, uplink: now.uplink, downlink: now.downlink },
    };
  }
  return {
    up: Math.max(0, now.uplink - prev.uplink),
    down: Math.max(0, now.downlink - prev.downlink),
    cursor: {
      epoch,
      uplink: Math.max(prev.uplink, now.uplink),
      downlink: Math.max(prev.downlink, now.downlink),
    },
  };
}

/**
 * Adds a node's per-client totals to the accesses they belong to, idempotently: the node is locked
 * (advisory, per node), the deltas computed, the cursors moved and the usage added in ONE transaction. A retried or
 * duplicated call with the same totals adds nothing; a lost answer's bytes arrive with the next one.
 * A client email is an access's own key (subscriptions.client_email) or one of its devices.
 */
export async function applyNodeCounters(
  orm: MikroORM,
  nodeId: string,
  counters: NodeCounters,
): Promise<CollectResult> {
  return orm.em.fork().transactional(async (em) => {
    const ctx = em.getTransactionContext();
    const q = (sql: string, params: unknown[] = []) => em.getConnection().execute(sql, params, 'all', ctx);
    // One collection per node at a time (a row lock cannot cover a client's first, not yet inserted cursor).
    await q(`select pg_advisory_xact_lock(hashtext('traffic:' || ?))`, [nodeId]);
    const rows = await q(`select email, epoch, uplink, downlink from traffic_cursors where node_id = ?`, [
      nodeId,
    ]);
    const cursors = new Map<string, Cursor>(
      rows.map((r) => [
        String(r.email),
        { epoch: String(r.epoch), uplink: Number(r.uplink), downlink: Number(r.downlink) },
      ]),
    );
    const moved: Array<{ email: string; epoch: string; uplink: number; downlink: number }> = [];
    const deltas: Array<{ email: string; up: number; down: number }> = [];
    for (const s of counters.stats) {
      const d = counterDelta(cursors.get(s.email), counters.epoch, s);
      const prev = cursors.get(s.email);
      if (!prev || JSON.stringify(prev) !== JSON.stringify(d.cursor))
        moved.push({ email: s.email, ...d.cursor });
      if (d.up > 0 || d.down > 0) deltas.push({ email: s.email, up: d.up, down: d.down });
    }
    if (moved.length) {
      await q(
        `insert into traffic_cursors (node_id, email, epoch, uplink, downlink)
         select ?, x.email, x.epoch, x.uplink, x.downlink
           from jsonb_to_recordset(?::jsonb) as x(email text, epoch text, uplink bigint, downlink bigint)
         on conflict (node_id, email) do update
           set epoch = excluded.epoch, uplink = excluded.uplink, downlink = excluded.downlink, updated_at = now()`,
        [nodeId, JSON.stringify(moved)],
      );
    }
    if (deltas.length) {
      await q(
        `with d as (select * from jsonb_to_recordset(?::jsonb) as x(email text, up bigint, down bigint)),
              owner as (
                select s.id, d.up, d.down from d join subscriptions s on s.client_email = d.email
                union all
                select dv.subscription_id, d.up, d.down from d join devices dv on dv.client_email = d.email),
              total as (select id, sum(up) as up, sum(down) as down from owner group by id)
         update subscriptions s
            set upload_bytes = s.upload_bytes + total.up, download_bytes = s.download_bytes + total.down,
                period_upload_bytes = s.period_upload_bytes + total.up,
                period_download_bytes = s.period_download_bytes + total.down
           from total where s.id = total.id`,
        [JSON.stringify(deltas)],
      );
    }
    return { clients: counters.stats.length, addedBytes: deltas.reduce((n, d) => n + d.up + d.down, 0) };
  });
}

/** Reads the node's totals (older agents without an epoch count as one epoch) and applies them. */
export async function collectNodeUsage(orm: MikroORM, nodeId: string, d: NodeDriver): Promise<CollectResult> {
  const counters = d.counters ? await d.counters() : { epoch: '', stats: await d.stats(false) };
  return applyNodeCounters(orm, nodeId, counters);
}
