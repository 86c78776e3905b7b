import { z } from 'zod';
import { qrPng } from '../../infra/xray/qr';
import { applyNewDevice, applyRemovedDevice, refusePrimaryDevice, registerDevice } from '../devices';
import { iso, type Row, sql, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { deviceLink } from '../device-link';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParam, telegramIdParams, uuid } from '../schemas';

const device = z.object({
  device_id: z.string().uuid().describe("the access's own key has the subscription id"),
  name: z.string(),
  primary: z.boolean().describe("the access's own key: removed only with the access"),
  hwid: z.string().nullable(),
  os: z.string().nullable().describe('x-device-os the app sent when it registered (null: unknown)'),
  model: z.string().nullable().describe('x-device-model the app sent when it registered (null: unknown)'),
  created_at: z.string(),
});
const listBody = z.object({
  devices: z.array(device),
  device_limit: z.number().int().nullable().describe('null = unlimited'),
});
const createdBody = z.object({
  device_id: z.string().uuid(),
  vless_url: z.string(),
  qr_png_base64: z.string(),
});
const deviceParams = z.object({ telegram_id: telegramIdParam, device_id: uuid('device id') });

const noAccess = () => notFound('no_active_subscription', 'this user has no active subscription');

const view = (r: Row, primary: boolean) => ({
  device_id: String(r.id),
  name: String(r.name),
  primary,
  hwid: r.hwid ?? null,
  os: r.os ?? null,
  model: r.model ?? null,
  created_at: iso(r.created_at) ?? '',
});

export function deviceRoutes(routes: RouteTable, deps: ApiDeps): void {
  const common = { tag: 'bot', auth: 'api' as const };

  routes.add(
    {
      ...common,
      method: 'get',
      path: '/api/v1/subscriptions/:telegram_id/devices',
      summary: "The active access's devices (its own key first) and the tariff's device limit",
      params: telegramIdParams,
      responses: {
        200: { description: 'Devices', schema: listBody },
        404: { description: 'Unknown user or no active subscription', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      const access = await sqlOne(
        deps.orm,
        `select s.id, s.created_at, t.device_limit from subscriptions s join tariffs t on t.id = s.tariff_id
          where s.user_id = ? and s.status = 'active' and s.expires_at > now()`,
        [user.id],
      );
      if (!access) throw noAccess();
      const rows = await sql(
        deps.orm,
        `select * from devices where subscription_id = ? and removed_at is null order by created_at, id`,
        [access.id],
      );
      const own = { id: access.id, name: 'main', hwid: null, created_at: access.created_at };
      res.json({
        devices: [view(own, true), ...rows.map((r) => view(r, false))],
        device_limit: access.device_limit === null ? null : Number(access.device_limit),
      });
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/subscriptions/:telegram_id/devices',
      summary: 'Add a device: its own key on the access’s node, working when this answers',
      params: telegramIdParams,
      body: z.object({ name: z.string().trim().min(1).max(64).optional() }),
      responses: {
        201: { description: 'The new device and its key', schema: createdBody },
        404: { description: 'Unknown user or no active subscription', schema: errorBody },
        409: { description: 'device_limit: the tariff allows no more devices', schema: errorBody },
        503: {
          description: 'node_unavailable: the access’s server cannot take the key now',
          schema: errorBody,
        },
      },
    },
    async ({ params, body }, _req, res) => {
      await requireUser(deps.orm, params.telegram_id);
      const count = await sqlOne(
        deps.orm,
        `select count(*)::int as n from devices d join subscriptions s on s.id = d.subscription_id
           join users u on u.id = s.user_id where u.telegram_id = ? and s.status = 'active'`,
        [params.telegram_id],
      );
      const name = body.name ?? `device ${Number(count?.n ?? 0) + 2}`;
      const registered = await registerDevice(deps.orm, params.telegram_id, { name });
      if (registered.kind === 'no_access') throw noAccess();
      if (registered.kind === 'limit')
        throw new HttpError(
          409,
          'device_limit',
          `this tariff allows ${registered.access.device_limit} devices`,
        );
      await applyNewDevice(deps, registered.device, registered.access.node_id);
      const vlessUrl = await deviceLink(deps.orm, registered.access.id, registered.device);
      res.status(201).json({
        device_id: registered.device.id,
        vless_url: vlessUrl,
        qr_png_base64: (await qrPng(vlessUrl)).toString('base64'),
      });
    },
  );

  routes.add(
    {
      ...common,
      method: 'delete',
      path: '/api/v1/subscriptions/:telegram_id/devices/:device_id',
      summary: 'Remove a device: its key stops working (at once, or when its server is reachable again)',
      params: deviceParams,
      responses: {
        200: {
          description: 'Removed',
          schema: z.object({
            device_id: z.string().uuid(),
            removed: z.literal(true),
            applied: z.boolean().describe('false: the server was unreachable; the key goes when it is back'),
          }),
        },
        404: { description: 'Unknown user or device', schema: errorBody },
        409: {
          description: 'primary_device: the access’s own key goes only with the access',
          schema: errorBody,
        },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      await refusePrimaryDevice(
        deps.orm,
        user.id,
        params.device_id,
        "the access's own key goes only with the access",
      );
      const removed = await sqlOne(
        deps.orm,
        `update devices d set removed_at = now() from subscriptions s
          where d.id = ? and s.id = d.subscription_id and s.user_id = ? and d.removed_at is null
          returning s.node_id, s.id as subscription_id`,
        [params.device_id, user.id],
      );
      if (!removed) throw notFound('device_not_found');
      const applied = await applyRemovedDevice(deps, removed.node_id, String(removed.subscription_id));
      res.json({ device_id: params.device_id, removed: true, applied });
    },
  );
}
