import type { MikroORM } from '@mikro-orm/postgresql';
import { buildVlessLink } from '../infra/xray/link';
import { ACCESS_SELECT } from './access';
import type { AccessRow, DeviceRow } from '../infra/db/rows';
import { sqlOne } from './db';

/** The vless:// link of one device: the access's node, the device's own uuid and name. */
export async function deviceLink(
  orm: MikroORM,
  subscriptionId: string,
  device: Pick<DeviceRow, 'client_uuid' | 'name'>,
): Promise<string> {
  const row = await sqlOne<AccessRow>(orm, `${ACCESS_SELECT} where s.id = ?`, [subscriptionId]);
  if (!row) throw new Error(`subscription ${subscriptionId} vanished`);
  return buildVlessLink({
    uuid: device.client_uuid,
    host: row.host,
    port: Number(row.port),
    serverName: row.reality_server_name,
    publicKey: row.reality_public_key,
    shortId: row.reality_short_id,
    remark: `${row.node_name}-${row.telegram_id}-${String(device.name).replace(/[^\w.-]+/g, '_')}`,
  });
}
