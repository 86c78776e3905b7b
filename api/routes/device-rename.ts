import { z } from 'zod';
import { sqlOne } from '../db';
import { refusePrimaryDevice } from '../devices';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParam, uuid } from '../schemas';

const params = z.object({ telegram_id: telegramIdParam, device_id: uuid('device id') });

/**
 * Renaming a device (the bot's "Rename"). Only the label changes: the device keeps its client (uuid, email)
 * on the nodes, so no node round is needed; the new name shows in the list and in the next key's remark.
 */
export function deviceRenameRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      tag: 'bot',
      auth: 'api',
      method: 'patch',
      path: '/api/v1/subscriptions/:telegram_id/devices/:device_id',
      summary: 'Rename a device: its key keeps working, only its name changes',
      params,
      body: z.object({ name: z.string().trim().min(1).max(64) }),
      responses: {
        200: {
          description: 'Renamed',
          schema: z.object({ device_id: z.string().uuid(), name: z.string() }),
        },
        404: { description: 'Unknown user or device (or one already removed)', schema: errorBody },
        409: {
          description: 'primary_device: the access’s own key is always called "main"',
          schema: errorBody,
        },
      },
    },
    async ({ params: p, body }, _req, res) => {
      const user = await requireUser(deps.orm, p.telegram_id);
      await refusePrimaryDevice(deps.orm, user.id, p.device_id, "the access's own key cannot be renamed");
      const renamed = await sqlOne(
        deps.orm,
        `update devices d set name = ? from subscriptions s
          where d.id = ? and s.id = d.subscription_id and s.user_id = ? and d.removed_at is null
          returning d.id, d.name`,
        [body.name, p.device_id, user.id],
      );
      if (!renamed) throw notFound('device_not_found');
      res.json({ device_id: String(renamed.id), name: String(renamed.name) });
    },
  );
}
