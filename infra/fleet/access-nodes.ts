import type { MikroORM } from '@mikro-orm/postgresql';
import { poolQuery } from '../db/query';

/**
 * Several nodes per access (issue 12, "Locations and several nodes per access").
 *
 * The rule (ACCESS_NODES=location, the default): an access is wanted on its home node (subscriptions.node_id:
 * its capacity slot and its vless:// link) AND on every node of its tariff's `locations` that is not disabled
 * and not draining, with one client per device per node (the same uuid and email on every node).
 * A tariff without locations (= "any one node") lives on its home node only. ACCESS_NODES=home is the old
 * behaviour: the home node only. Capacity (./capacity.ts) counts home placements only.
 *
 * A node that is down stays in the desired state (it is refilled the moment it returns) but is left out of
 * the subscription URL's list; a revoke that cannot reach it leaves it to that node's reconcile, which removes
 * the no-longer-wanted clients when the node answers again.
 */
export type AccessNodesMode = 'location' | 'home';

export const ACCESS_NODES_MODES = ['location', 'home'] as const;

/** The setting as read from the environment (infra/config.ts validates it; activities default to it). */
export function accessNodesModeFromEnv(env: NodeJS.ProcessEnv = process.env): AccessNodesMode {
  return env.ACCESS_NODES === 'home' ? 'home' : 'location';
}

/**
 * SQL predicate: subscription `s` (with its tariff `t`) is wanted on node `n`, whatever the access's own
 * status (callers add `s.status = 'active'` where they mean "wanted now").
 */
export function coversNodeSql(mode: AccessNodesMode): string {
  if (mode === 'home') return `(s.node_id = n.id)`;
  return `(s.node_id = n.id or (n.status <> 'disabled' and n.draining_at is null
            and exists (select 1 from unnest(t.locations) l where lower(l) = lower(n.location))))`;
}

export interface AccessNode {
  id: string;
  name: string;
  location: string;
  status: 'up' | 'down' | 'disabled';
  /** The access's home node (its slot, its vless:// link). */
  home: boolean;
}

/** Every node an access is (or, once ended, was) wanted on, the home node first. */
export async function nodesOfAccess(
  orm: MikroORM,
  subscriptionId: string,
  mode: AccessNodesMode = accessNodesModeFromEnv(),
): Promise<AccessNode[]> {
  const rows = await poolQuery(orm.em)(
    `select n.id, n.name, n.location, n.status, (n.id = s.node_id) as home
       from subscriptions s join tariffs t on t.id = s.tariff_id
       join vpn_nodes n on ${coversNodeSql(mode)}
      where s.id = ?
      order by (n.id = s.node_id) desc, n.name`,
    [subscriptionId],
  );
  return rows.map((r) => ({
    id: String(r.id),
    name: String(r.name),
    location: String(r.location),
    status: r.status as AccessNode['status'],
    home: Boolean(r.home),
  }));
}

/** A node's Reality endpoint as the subscription URL lists it. */
export interface ListedNode {
  id: string;
  name: string;
  location: string;
  country_code: string;
  host: string;
  port: number;
  reality_public_key: string;
  reality_short_id: string;
  reality_server_name: string;
  home: boolean;
}

/**
 * The entries of an access's subscription URL: its wanted nodes that are up (a down or disabled node is left
 * out, the others stay), home first. If none is up, the home node alone (a config that works again the
 * moment the node does, rather than an empty one).
 */
export async function listedNodesOfAccess(
  orm: MikroORM,
  subscriptionId: string,
  mode: AccessNodesMode = accessNodesModeFromEnv(),
): Promise<ListedNode[]> {
  const rows = await poolQuery(orm.em)<ListedNode & { status: string }>(
    `select n.id, n.name, n.location, n.country_code, n.host, n.port, n.reality_public_key, n.reality_short_id,
            n.reality_server_name, n.status, (n.id = s.node_id) as home
       from subscriptions s join tariffs t on t.id = s.tariff_id
       join vpn_nodes n on ${coversNodeSql(mode)}
      where s.id = ?
      order by (n.id = s.node_id) desc, n.location, n.name`,
    [subscriptionId],
  );
  const up = rows.filter((r) => r.status === 'up');
  const chosen = up.length > 0 ? up : rows.filter((r) => r.home);
  return chosen.map(({ status: _status, ...r }) => ({ ...r, port: Number(r.port), home: Boolean(r.home) }));
}

/** "🇩🇪" from "DE"; empty for anything that is not two letters. */
export function countryFlag(code: string): string {
  const c = code.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(c)) return '';
  return String.fromCodePoint(...[...c].map((ch) => 0x1f1e6 + ch.charCodeAt(0) - 65));
}

/**
 * Entry names, by country and location ("🇩🇪 Frankfurt"); a location with several nodes names each node too
 * ("🇩🇪 Frankfurt · fra-2"), so every name in the list is unique.
 */
export function entryNames(nodes: Pick<ListedNode, 'name' | 'location' | 'country_code'>[]): string[] {
  const base = nodes.map((n) => `${countryFlag(n.country_code)} ${n.location}`.trim());
  const count = new Map<string, number>();
  for (const b of base) count.set(b.toLowerCase(), (count.get(b.toLowerCase()) ?? 0) + 1);
  return base.map((b, i) => (count.get(b.toLowerCase())! > 1 ? `${b} · ${nodes[i].name}` : b));
}
