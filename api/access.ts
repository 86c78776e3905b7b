import { buildVlessLink } from '../infra/xray/link';
import type { Row } from './db';

/** Columns every "what does this user connect with" query selects (subscription s, node n, user u, tariff t). */
export const ACCESS_SELECT = `
  select s.id, s.status, s.expires_at, s.client_uuid, s.subscription_token, s.upload_bytes, s.download_bytes,
         u.telegram_id, t.name as tariff_name, n.name as node_name, n.host, n.port,
         n.reality_public_key, n.reality_short_id, n.reality_server_name
    from subscriptions s
    join users u on u.id = s.user_id
    join tariffs t on t.id = s.tariff_id
    join vpn_nodes n on n.id = s.node_id`;

/** The vless:// share link of one subscription row selected with ACCESS_SELECT. */
export function vlessLinkFor(row: Row): string {
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

/** Active and not yet past its end (the revoke may lag the deadline by a moment). */
export const isLive = (row: Row, now = new Date()) =>
  row.status === 'active' && new Date(row.expires_at) > now;

export const subscriptionUrl = (publicBaseUrl: string, token: string) =>
  `${publicBaseUrl.replace(/\/+$/, '')}/sub/${token}`;
