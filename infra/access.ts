import type { MikroORM } from '@mikro-orm/postgresql';
import { poolQuery } from './db/query';
import type { AccessRow } from './db/rows';
import { buildVlessLink } from './xray/link';

/** Columns every "what does this user connect with" query selects (subscription s, node n, user u, tariff t): AccessRow. */
export const ACCESS_SELECT = `
  select s.id, s.status, s.expires_at, s.client_uuid, s.subscription_token, s.upload_bytes, s.download_bytes, s.sub_fetched_at,
         u.telegram_id, t.name as tariff_name, n.name as node_name, n.host, n.port,
         n.reality_public_key, n.reality_short_id, n.reality_server_name,
         s.period_upload_bytes, s.period_download_bytes, s.traffic_extra_bytes, s.suspended_at,
         t.traffic_limit_bytes, t.device_limit, u.language,
         (select count(*)::int from devices d where d.subscription_id = s.id and d.removed_at is null) as added_devices
    from subscriptions s
    join users u on u.id = s.user_id
    join tariffs t on t.id = s.tariff_id
    join vpn_nodes n on n.id = s.node_id`;

/** The vless:// share link of one subscription row selected with ACCESS_SELECT. */
export function vlessLinkFor(row: AccessRow): string {
  return buildVlessLink({
    uuid: row.client_uuid,
    host: row.host,
    port: Number(row.port),
    serverName: row.reality_server_name,
    publicKey: row.reality_public_key,
    shortId: row.reality_short_id,
    remark: `${row.node_name}-${row.telegram_id}`,
  });
}

export const subscriptionUrl = (publicBaseUrl: string, token: string) =>
  `${publicBaseUrl.replace(/\/+$/, '')}/sub/${token}`;

/** Everything a user needs to connect, read from the subscription and its node. */
export interface AccessDetails {
  subscriptionId: string;
  status: string;
  telegramId: string;
  expiresAt: Date;
  vlessUrl: string;
  subscriptionUrl: string;
  /** Has the user's app fetched the subscription URL (then it follows a move by itself)? */
  subscriptionFetched: boolean;
}

export async function loadAccess(
  orm: MikroORM,
  subscriptionId: string,
  publicBaseUrl: string,
): Promise<AccessDetails | null> {
  const [row] = await poolQuery(orm.em)<AccessRow>(`${ACCESS_SELECT} where s.id = ?`, [subscriptionId]);
  if (!row) return null;
  return {
    subscriptionId: row.id,
    status: row.status,
    telegramId: String(row.telegram_id),
    expiresAt: new Date(row.expires_at),
    vlessUrl: vlessLinkFor(row),
    subscriptionUrl: subscriptionUrl(publicBaseUrl, row.subscription_token),
    subscriptionFetched: row.sub_fetched_at != null,
  };
}
