import type { MikroORM } from '@mikro-orm/postgresql';
import { type AccessNodesMode, accessNodesModeFromEnv, coversNodeSql } from '../fleet/access-nodes';

/**
 * The data plane as desired state: which Xray clients a node SHOULD have, read from PostgreSQL.
 * A node's real list is made equal to it by the reconcile (activities/nodes.ts reconcileNode).
 *
 * Wanted on a node: the own key of every active access that covers it (email = subscription id) and every
 * live device of those accesses (email `dev-<device id>`), each with its own uuid. An access covers its home
 * node and, with ACCESS_NODES=location, every enabled, non-draining node of its tariff's locations
 * (infra/fleet/access-nodes.ts). A suspended access (its traffic is used up, infra/quota/enforce.ts) is
 * wanted nowhere until a reset or a pack restores it.
 */
export interface WantedClient {
  email: string;
  uuid: string;
}

export const deviceEmail = (deviceId: string) => `dev-${deviceId}`;

export async function wantedClients(
  orm: MikroORM,
  nodeId: string,
  mode: AccessNodesMode = accessNodesModeFromEnv(),
): Promise<WantedClient[]> {
  const rows = await orm.em.getConnection().execute(
    `with acc as (
       select s.id, s.client_email, s.client_uuid
         from subscriptions s join tariffs t on t.id = s.tariff_id join vpn_nodes n on n.id = ?
        where s.status = 'active' and s.suspended_at is null and ${coversNodeSql(mode)})
     select client_email as email, client_uuid as uuid from acc
     union all
     select d.client_email, d.client_uuid from devices d join acc on acc.id = d.subscription_id
      where d.removed_at is null`,
    [nodeId],
  );
  return rows.map((r) => ({ email: String(r.email), uuid: String(r.uuid) }));
}

/**
 * Of the given emails, those we know must NOT be on this node: an access that ended, is suspended or no
 * longer covers the node (moved home, tariff or node left the location, node disabled or draining), and
 * removed devices. Anything else unknown may be a purchase between AddClient and its commit,
 * so it only goes after a grace period.
 */
export async function knownUnwanted(
  orm: MikroORM,
  nodeId: string,
  emails: string[],
  mode: AccessNodesMode = accessNodesModeFromEnv(),
): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const covers = coversNodeSql(mode);
  const rows = await orm.em.getConnection().execute(
    `select s.client_email as email
       from subscriptions s join tariffs t on t.id = s.tariff_id join vpn_nodes n on n.id = ?
      where s.client_email = any(string_to_array(?, ','))
        and (s.status <> 'active' or s.suspended_at is not null or not ${covers})
     union
     select d.client_email
       from devices d join subscriptions s on s.id = d.subscription_id
       join tariffs t on t.id = s.tariff_id join vpn_nodes n on n.id = ?
      where d.client_email = any(string_to_array(?, ','))
        and (d.removed_at is not null or s.status <> 'active' or s.suspended_at is not null or not ${covers})`,
    [nodeId, emails.join(','), nodeId, emails.join(',')],
  );
  return new Set(rows.map((r) => String(r.email)));
}

/**
 * Notes strays seen in this round and answers those first seen at least `graceMs` ago; forgets
 * the ones no longer stray. Kept in PostgreSQL so the grace survives worker restarts.
 */
export async function agedStrays(
  orm: MikroORM,
  nodeId: string,
  emails: string[],
  graceMs: number,
): Promise<Set<string>> {
  const conn = orm.em.getConnection();
  await conn.execute(
    `delete from node_strays where node_id = ? and not (email = any(string_to_array(?, ',')))`,
    [nodeId, emails.join(',')],
  );
  if (emails.length === 0) return new Set();
  const rows = await conn.execute(
    `insert into node_strays (node_id, email) select ?, unnest(string_to_array(?, ','))
       on conflict (node_id, email) do update set first_seen = node_strays.first_seen
     returning email, first_seen <= now() - make_interval(secs => ?) as aged`,
    [nodeId, emails.join(','), graceMs / 1000],
  );
  return new Set(rows.filter((r) => r.aged).map((r) => String(r.email)));
}

/** The emails of every device of an access (removed ones too): a revoke takes them all off the node. */
export async function deviceEmailsOf(orm: MikroORM, subscriptionEmail: string): Promise<string[]> {
  const rows = await orm.em
    .getConnection()
    .execute(
      `select d.client_email from devices d join subscriptions s on s.id = d.subscription_id where s.client_email = ?`,
      [subscriptionEmail],
    );
  return rows.map((r) => String(r.client_email));
}
