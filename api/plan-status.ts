import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { nodesOfAccess } from '../infra/fleet/access-nodes';
import type { Row } from './db';
import { deviceCount } from './devices';

/** Plan-limit fields of GET /subscriptions/{telegram_id}/status (contract v2). */
export const planStatusFields = {
  traffic_used_bytes: z
    .number()
    .int()
    .describe('upload + download in the current quota period (tariff traffic_reset: never, monthly, period)'),
  traffic_limit_bytes: z
    .number()
    .int()
    .nullable()
    .describe(
      "the period's allowance: the tariff's traffic_limit_bytes plus traffic packs bought; null = unlimited",
    ),
  suspended: z.boolean().describe('the traffic is used up: the access is paid but off the nodes'),
  devices: z.number().int().describe('devices of the active access, its own key included; 0 without one'),
  device_limit: z.number().int().nullable().describe('null = unlimited'),
  locations: z.array(z.string()).describe('where the access has servers'),
};

/** Columns the status query adds (subscription s, tariff t). */
export const PLAN_STATUS_COLUMNS = `s.upload_bytes, s.download_bytes, s.suspended_at, s.node_id,
  s.period_upload_bytes, s.period_download_bytes, s.traffic_extra_bytes,
  t.traffic_limit_bytes, t.device_limit, t.locations as tariff_locations`;

export async function planStatus(orm: MikroORM, sub: Row | undefined) {
  if (!sub)
    return {
      traffic_used_bytes: 0,
      traffic_limit_bytes: null,
      suspended: false,
      devices: 0,
      device_limit: null,
      locations: [],
    };
  const active = sub.status === 'active';
  // Where the access has servers: its home node's location first, then its tariff's other locations'
  // nodes (ACCESS_NODES=location, infra/fleet/access-nodes.ts).
  const nodes = await nodesOfAccess(orm, String(sub.id));
  return {
    traffic_used_bytes: Number(sub.period_upload_bytes ?? 0) + Number(sub.period_download_bytes ?? 0),
    traffic_limit_bytes:
      sub.traffic_limit_bytes === null
        ? null
        : Number(sub.traffic_limit_bytes) + Number(sub.traffic_extra_bytes ?? 0),
    suspended: active && sub.suspended_at !== null,
    devices: active ? await deviceCount(orm, sub.id) : 0,
    device_limit: sub.device_limit === null ? null : Number(sub.device_limit),
    locations: [...new Set(nodes.map((n) => n.location))],
  };
}
