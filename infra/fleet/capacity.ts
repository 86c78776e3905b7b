import type { MikroORM } from '@mikro-orm/postgresql';
import { type AccessNodesMode, accessNodesModeFromEnv, coversNodeSql } from './access-nodes';

/**
 * Node selection with the slot reserved in the same transaction.
 *
 * All selections take one transaction-level advisory lock, so two purchases never both see a node's last
 * slot free: each counts the node's active accesses (or its reported client count, whichever is higher)
 * plus the live reservations of other holders, and the winner's reservation is written before the lock is
 * released. A holder (a purchase's payment id) that selects again moves its reservation rather than adding one.
 * The grant deletes the reservation in its own transaction (releaseReservation); a holder that never grants
 * stops counting at `expires_at`.
 */
const SELECTION_LOCK = 7_422_600_112;
/** Long enough for AddClient retries between selection and grant; a refunded purchase's slot frees after it. */
export const RESERVATION_TTL_SECONDS = 30 * 60;

export interface NodeChoice {
  location: string | null;
  exclude?: string[];
  /** Who the slot is for (a payment id). Without it the slot is checked under the lock but not held. */
  holder?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: raw SQL rows are untyped at this boundary
type Query = (query: string, params?: unknown[]) => Promise<Record<string, any>[]>;

export async function selectAndReserve(orm: MikroORM, choice: NodeChoice): Promise<string | null> {
  return orm.em.fork().transactional(async (em) => {
    const q: Query = (query, params = []) =>
      em.getConnection().execute(query, params, 'all', em.getTransactionContext());
    return selectAndReserveIn(q, choice);
  });
}

/**
 * Capacity counts home placements only. With ACCESS_NODES=location a node also carries the clients of
 * accesses homed elsewhere that cover its location (infra/fleet/access-nodes.ts): its reported client count
 * minus those is what it holds of its own.
 */
function elsewhereJoin(mode: AccessNodesMode): string {
  if (mode === 'home') return `cross join (select 0 as clients) e`;
  return `left join lateral (
         select coalesce(sum(1 + (select count(*) from devices d where d.subscription_id = s.id and d.removed_at is null)), 0)::int as clients
           from subscriptions s join tariffs t on t.id = s.tariff_id
          where s.status = 'active' and s.suspended_at is null and s.node_id <> n.id and ${coversNodeSql(mode)}) e on true`;
}

export async function selectAndReserveIn(q: Query, choice: NodeChoice): Promise<string | null> {
  const { location, exclude = [], holder = null } = choice;
  await lockSelection(q);
  const [row] = await q(
    `select n.id from vpn_nodes n
       left join lateral (select count(*)::int as active from subscriptions s where s.node_id = n.id and s.status = 'active') a on true
       ${elsewhereJoin(accessNodesModeFromEnv())}
       left join lateral (select count(*)::int as held from node_reservations r
                           where r.node_id = n.id and r.expires_at > now() and r.holder is distinct from ?) r on true
      where n.status = 'up' and n.draining_at is null
        and greatest(n.client_count - e.clients, a.active) + r.held < n.capacity
        and (?::text is null or lower(n.location) = lower(?))
        and not (n.id::text = any(string_to_array(?, ',')))
      order by (greatest(n.client_count - e.clients, a.active) + r.held)::float / greatest(n.capacity, 1),
               greatest(n.client_count - e.clients, a.active) + r.held, n.name
      limit 1`,
    [holder, location, location, exclude.join(',')],
  );
  const nodeId: string | null = row?.id ?? null;
  if (holder && nodeId) {
    await q(
      `insert into node_reservations (holder, node_id, expires_at) values (?, ?, now() + make_interval(secs => ?))
         on conflict (holder) do update set node_id = excluded.node_id, created_at = now(), expires_at = excluded.expires_at`,
      [holder, nodeId, RESERVATION_TTL_SECONDS],
    );
  }
  return nodeId;
}

/** Held until the transaction ends: no selection runs meanwhile (a drain's last check takes it too). */
export async function lockSelection(q: Query): Promise<void> {
  await q(`select pg_advisory_xact_lock(?)`, [SELECTION_LOCK]);
}

/** In the grant's transaction: the access counts from now on, so its reservation must not. */
export async function releaseReservation(q: Query, holder: string): Promise<void> {
  await q(`delete from node_reservations where holder = ?`, [holder]);
}
