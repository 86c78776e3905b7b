import { z } from 'zod';
import { renderSubscription } from '../../infra/xray/subscription';
import { ACCESS_SELECT, isLive, vlessLinkFor } from '../access';
import { sqlOne } from '../db';
import { notFound } from '../errors';
import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';

const UPDATE_INTERVAL_HOURS = 12;
const TOKEN = /^[\w-]{16,64}$/;

export function subRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/sub/:token',
      summary: 'Subscription URL for VPN clients (v2rayNG, Hiddify, Streisand, v2rayN)',
      tag: 'public',
      auth: 'none',
      params: z.object({ token: z.string().max(256) }),
      responses: {
        200: {
          description:
            'Base64 of newline-separated vless:// links (empty once expired) with subscription-userinfo, ' +
            'profile-update-interval, profile-title, content-disposition and support-url headers',
          contentType: 'text/plain',
        },
        404: { description: 'Unknown token' },
      },
    },
    async ({ params }, _req, res) => {
      const row = TOKEN.test(params.token)
        ? await sqlOne(deps.orm, `${ACCESS_SELECT} where s.subscription_token = ?`, [params.token])
        : undefined;
      if (!row) throw notFound('subscription_not_found');
      const live = isLive(row);
      const { body, headers } = renderSubscription({
        links: live ? [vlessLinkFor(row)] : [],
        upload: Number(row.upload_bytes),
        download: Number(row.download_bytes),
        total: 0,
        expireAt: live ? new Date(row.expires_at) : pastExpiry(row.expires_at),
        title: `VPN · ${row.tariff_name}`,
        supportUrl: deps.config.SUPPORT_URL,
        updateIntervalHours: UPDATE_INTERVAL_HOURS,
      });
      res.set(headers).send(body);
    },
  );
}

/** A revoked or refunded access ends now even if its paid end was later: clients must see it expired. */
function pastExpiry(expiresAt: Date | string): Date {
  const end = new Date(expiresAt);
  return end < new Date() ? end : new Date(Date.now() - 1000);
}
