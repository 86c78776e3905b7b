import type { MikroORM } from '@mikro-orm/postgresql';
import { buildVlessLink } from './xray/link';

/** Everything a user needs to connect, read from the subscription and its node. */
export interface AccessDetails {
  subscriptionId: string;
  status: string;
  telegramId: string;
  expiresAt: Date;
  vlessUrl: string;
  subscriptionUrl: string;
  subscriptionToken: string;
  uploadBytes: number;
  downloadBytes: number;
}

export async function loadAccess(
  orm: MikroORM,
  subscriptionId: string,
  publicBaseUrl: string,
): Promise<AccessDetails | null> {
  const rows = await orm.em.getConnection().execute(
    `select s.id, s.status, s.client_uuid, s.subscription_token, s.expires_at, s.upload_bytes, s.download_bytes,
            u.telegram_id, n.name as node_name, n.host, n.port, n.reality_public_key, n.reality_short_id, n.reality_server_name
       from subscriptions s join users u on u.id = s.user_id join vpn_nodes n on n.id = s.node_id
      where s.id = ?`,
    [subscriptionId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    subscriptionId: r.id,
    status: r.status,
    telegramId: String(r.telegram_id),
    expiresAt: new Date(r.expires_at),
    vlessUrl: buildVlessLink({
      uuid: r.client_uuid,
      host: r.host,
      port: r.port,
      serverName: r.reality_server_name,
      publicKey: r.reality_public_key,
      shortId: r.reality_short_id,
      remark: `${r.node_name}-${r.telegram_id}`,
    }),
    subscriptionUrl: `${publicBaseUrl.replace(/\/+$/, '')}/sub/${r.subscription_token}`,
    subscriptionToken: r.subscription_token,
    uploadBytes: Number(r.upload_bytes),
    downloadBytes: Number(r.download_bytes),
  };
}
