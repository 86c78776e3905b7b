import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { deviceEmail } from '../infra/nodes/desired-state';
import { reconcileNow } from '../infra/nodes/reconcile-start';
import { type Query, transactionQuery } from '../infra/db/query';
import type { DeviceRow } from '../infra/db/rows';
import { roundOnOtherNodes } from './access-node-rounds';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';

/**
 * Devices of an access. The access's own key is device 1 (no row); every further device is a `devices`
 * row with its own Xray client on the access's node. Rows are the desired state: the node's reconcile
 * (`reconcile-<node id>`) makes the node match, and the API asks for a round at once so the key works
 * when it answers.
 */

export interface LiveAccess {
  id: string;
  node_id: string;
  device_limit: number | null;
  client_uuid: string;
}

/** The user's active access, row-locked: concurrent adds for one access are decided one at a time. */
async function lockLiveAccess(q: Query, telegramId: string): Promise<LiveAccess | undefined> {
  const [row] = await q<LiveAccess>(
    `select s.id, s.node_id, s.client_uuid, t.device_limit from subscriptions s
       join users u on u.id = s.user_id join tariffs t on t.id = s.tariff_id
      where u.telegram_id = ? and s.status = 'active' and s.expires_at > now()
      for update of s`,
    [telegramId],
  );
  return row;
}

/** Devices an access counts: its own key plus its live rows. */
/** The access's own key is listed as a device ("main") but is not one: 409 `primary_device` for `why`. */
export async function refusePrimaryDevice(
  orm: MikroORM,
  userId: string,
  deviceId: string,
  why: string,
): Promise<void> {
  const [own] = await orm.em
    .getConnection()
    .execute(`select id from subscriptions where id = ? and user_id = ?`, [deviceId, userId]);
  if (own) throw new HttpError(409, 'primary_device', why);
}

export async function deviceCount(orm: MikroORM, subscriptionId: string): Promise<number> {
  const [row] = await orm.em
    .getConnection()
    .execute(`select count(*)::int as n from devices where subscription_id = ? and removed_at is null`, [
      subscriptionId,
    ]);
  return 1 + Number(row?.n ?? 0);
}

export type Registered =
  | { kind: 'added'; device: DeviceRow; access: LiveAccess }
  | { kind: 'existing'; device: DeviceRow; access: LiveAccess }
  | { kind: 'limit'; access: LiveAccess }
  | { kind: 'no_access' };

/**
 * Adds a device row if the tariff's device_limit allows it. With a hwid, the same hardware gets its
 * existing device back (an app refreshing its subscription registers once).
 */
export function registerDevice(
  orm: MikroORM,
  telegramId: string,
  d: { name: string; hwid?: string; os?: string; model?: string },
): Promise<Registered> {
  return orm.em.fork().transactional(async (em) => {
    const q = transactionQuery(em);
    const access = await lockLiveAccess(q, telegramId);
    if (!access) return { kind: 'no_access' };
    if (d.hwid) {
      const [known] = await q<DeviceRow>(
        `select * from devices where subscription_id = ? and hwid = ? and removed_at is null`,
        [access.id, d.hwid],
      );
      if (known) return { kind: 'existing', device: known, access };
    }
    const [{ n }] = await q(
      `select count(*)::int as n from devices where subscription_id = ? and removed_at is null`,
      [access.id],
    );
    if (access.device_limit !== null && 1 + Number(n) >= Number(access.device_limit))
      return { kind: 'limit', access };
    const id = randomUUID();
    const [device] = await q<DeviceRow>(
      `insert into devices (id, subscription_id, name, hwid, client_uuid, client_email, os, model)
       values (?, ?, ?, ?, ?, ?, ?, ?) returning *`,
      [id, access.id, d.name, d.hwid ?? null, randomUUID(), deviceEmail(id), d.os ?? null, d.model ?? null],
    );
    return { kind: 'added', device, access };
  });
}

const target = (deps: ApiDeps, nodeId: string) => ({
  nodeId,
  taskQueue: deps.config.PURCHASES_TASK_QUEUE,
  intervalMs: deps.config.NODE_HEALTH_INTERVAL,
});

/**
 * Puts a new device on its node now. When the node cannot take it, the row is withdrawn (the next round
 * removes a client that got through) and the caller answers 503: no key is handed out that cannot work.
 */
export async function applyNewDevice(
  deps: ApiDeps,
  device: Pick<DeviceRow, 'id' | 'subscription_id'>,
  nodeId: string,
): Promise<void> {
  const outcome = await reconcileNow(deps.temporal, target(deps, nodeId));
  if (outcome.ok) {
    // The access's other nodes (its locations) too; one that fails gets the key in its next round.
    await roundOnOtherNodes(deps, String(device.subscription_id), nodeId);
    return;
  }
  await deps.orm.em
    .getConnection()
    .execute(`update devices set removed_at = now() where id = ? and removed_at is null`, [device.id]);
  deps.logger.warn({ deviceId: device.id, nodeId, error: outcome.error }, 'device not placed on its node');
  throw new HttpError(503, 'node_unavailable', 'the server of this access is not reachable; try again later');
}

/** A removed device's client goes in this round, or (node unreachable) in a later one: the row says so. */
export async function applyRemovedDevice(
  deps: ApiDeps,
  nodeId: string,
  subscriptionId?: string,
): Promise<boolean> {
  const [outcome, others] = await Promise.all([
    reconcileNow(deps.temporal, target(deps, nodeId)),
    subscriptionId ? roundOnOtherNodes(deps, subscriptionId, nodeId) : true,
  ]);
  return outcome.ok && others;
}

/** Asks for a round without waiting (x-hwid registrations from /sub must not hold the client's refresh). */
export function applySoon(deps: ApiDeps, nodeId: string): void {
  void reconcileNow(deps.temporal, target(deps, nodeId)).then((o) => {
    if (!o.ok) deps.logger.warn({ nodeId, error: o.error }, 'device reconcile round failed');
  });
}
