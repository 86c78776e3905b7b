import { isLive } from './access';
import type { AccessRow } from '../infra/db/rows';
import type { ApiDeps } from './deps';
import { deviceCount, registerDevice } from './devices';
import { reconcileNow } from '../infra/nodes/reconcile-start';
import { roundOnOtherNodes } from './access-node-rounds';

const HWID = /^[\w.:+-]{1,128}$/;
/** A header as shown to the user: printable characters only, trimmed, at most `max` long; absent if empty. */
const deviceHint = (value: string | undefined, max: number) =>
  value
    ?.replace(/[^\p{L}\p{N} ._()+,/-]+/gu, '')
    .trim()
    .slice(0, max) || undefined;

export interface SubDevice {
  device?: { uuid: string };
  blocked?: 'device_limit' | 'hwid_required';
  devices: number;
  deviceLimit: number | null;
}

/**
 * What a /sub request gets as a device. An app that sends `x-hwid` (Happ, v2RayTun…) registers as a device
 * of the access (once per hwid) and is served that device's own key; past the tariff's device_limit it gets
 * the "too many devices" placeholder. Without x-hwid it gets the access's own key, or with
 * DEVICE_HWID_REQUIRED the "this app sends no HWID" placeholder.
 */
export async function subDevice(
  deps: ApiDeps,
  row: AccessRow,
  rawHwid: string | undefined,
  userAgent?: string,
  /** x-device-os / x-device-model, kept with a newly registered device for the device screens. */
  hints: { os?: string; model?: string } = {},
): Promise<SubDevice> {
  // ACCESS_SELECT carries the tariff's limit and the added devices: no query of its own.
  const deviceLimit = row.device_limit === null ? null : Number(row.device_limit);
  const devices = 1 + Number(row.added_devices);
  const base = { devices, deviceLimit };
  if (!isLive(row)) return base;
  const hwid = rawHwid?.trim();
  if (!hwid || !HWID.test(hwid))
    return deps.config.DEVICE_HWID_REQUIRED ? { ...base, blocked: 'hwid_required' } : base;

  const name = (userAgent ?? 'app').replace(/[^\w./ -]+/g, '').slice(0, 64) || 'app';
  const got = await registerDevice(deps.orm, String(row.telegram_id), {
    name,
    hwid,
    os: deviceHint(hints.os, 32),
    model: deviceHint(hints.model, 64),
  });
  if (got.kind === 'no_access') return base;
  if (got.kind === 'limit') return { ...base, blocked: 'device_limit' };
  if (got.kind === 'added') {
    // Wait briefly for the key to be on the node; if not, the periodic round adds it (the row is the truth).
    const outcome = await reconcileNow(
      deps.temporal,
      {
        nodeId: got.access.node_id,
        taskQueue: deps.config.PURCHASES_TASK_QUEUE,
        intervalMs: deps.config.NODE_HEALTH_INTERVAL,
      },
      10_000,
    );
    if (!outcome.ok)
      deps.logger.warn({ nodeId: got.access.node_id, error: outcome.error }, 'hwid device not placed yet');
    // Its other nodes without waiting: the app's refresh must not wait on every location.
    void roundOnOtherNodes(deps, row.id, got.access.node_id).catch(() => undefined);
  }
  return {
    device: { uuid: String(got.device.client_uuid) },
    devices: await deviceCount(deps.orm, row.id),
    deviceLimit,
  };
}
