import { z } from 'zod';
import type { AccessRow, SubscriptionRow } from '../../infra/db/rows';
import { qrPng } from '../../infra/xray/qr';
import { ACCESS_SELECT, isLive, subscriptionUrl, vlessLinkFor } from '../access';
import { autoRenewView } from '../auto-renew';
import { iso, type Row, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { PLAN_STATUS_COLUMNS, planStatus, planStatusFields } from '../plan-status';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParams } from '../schemas';
import { trialStatus, trialStatusField } from '../trial-status';

const DAY_MS = 86_400_000;

const statusBody = z.object({
  has_active_subscription: z.boolean(),
  subscription_id: z.string().uuid().nullable(),
  status: z.enum(['active', 'revoking', 'expired', 'refunded']).nullable(),
  tariff_name: z.string().nullable(),
  days_remaining: z.number().int().describe('whole days left, rounded up; 0 without an active subscription'),
  end_date: z.string().nullable(),
  auto_renewal: z.boolean().describe('true when the access renews itself (PUT .../auto-renew)'),
  next_charge_at: z
    .string()
    .nullable()
    .describe('when the next automatic charge is tried; null when auto-renew is off'),
  auto_renewal_method: z
    .enum(['card', 'balance', 'stars'])
    .nullable()
    .describe('what auto-renew charges; `stars`: a Stars subscription, Telegram charges every 30 days'),
  last_payment_status: z.enum(['pending', 'succeeded', 'canceled', 'expired', 'refunded']).nullable(),
  ...planStatusFields,
  ...trialStatusField,
});
const configBody = z.object({
  vless_url: z.string(),
  subscription_url: z.string(),
  qr_png_base64: z.string().describe('PNG of the vless_url QR code'),
});

export function subscriptionRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/subscriptions/:telegram_id/status',
      summary: "The user's current (or latest) subscription and latest payment",
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: { description: 'Status', schema: statusBody },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      // The named columns typed; PLAN_STATUS_COLUMNS stay loose for planStatus (api/plan-status.ts).
      const sub = await sqlOne<
        Pick<SubscriptionRow, 'id' | 'status' | 'expires_at'> & { tariff_name: string } & Row
      >(
        deps.orm,
        `select s.id, s.status, s.expires_at, t.name as tariff_name, ${PLAN_STATUS_COLUMNS} from subscriptions s
           join tariffs t on t.id = s.tariff_id where s.user_id = ?
          order by (s.status = 'active') desc, s.expires_at desc limit 1`,
        [user.id],
      );
      const payment = await sqlOne(
        deps.orm,
        `select status from payments where user_id = ? order by created_at desc limit 1`,
        [user.id],
      );
      const live = sub ? isLive(sub) : false;
      const renewal = await autoRenewView(deps.orm, user.id, deps.config.AUTO_RENEW_BEFORE);
      const left = live && sub ? new Date(sub.expires_at).getTime() - Date.now() : 0;
      res.json({
        has_active_subscription: live,
        subscription_id: sub?.id ?? null,
        status: sub?.status ?? null,
        tariff_name: sub?.tariff_name ?? null,
        days_remaining: Math.max(0, Math.ceil(left / DAY_MS)),
        end_date: iso(sub?.expires_at),
        auto_renewal: renewal.auto_renewal,
        next_charge_at: live ? renewal.next_charge_at : null,
        auto_renewal_method: renewal.method,
        last_payment_status: payment?.status ?? null,
        ...(await planStatus(deps.orm, sub)),
        trial: await trialStatus(deps.orm, user.id, deps.config.TRIAL_DURATION),
      });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/subscriptions/:telegram_id/config',
      summary: 'How to connect: the vless:// key, the subscription URL and a QR code',
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: { description: 'Connection settings', schema: configBody },
        404: { description: 'Unknown user or no active subscription', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const row = await sqlOne<AccessRow>(
        deps.orm,
        `${ACCESS_SELECT} where u.telegram_id = ? and s.status = 'active'`,
        [params.telegram_id],
      );
      if (!row || !isLive(row))
        throw notFound('no_active_subscription', 'this user has no active subscription');
      const vlessUrl = vlessLinkFor(row);
      res.json({
        vless_url: vlessUrl,
        subscription_url: subscriptionUrl(deps.config.PUBLIC_BASE_URL, row.subscription_token),
        qr_png_base64: (await qrPng(vlessUrl)).toString('base64'),
      });
    },
  );
}
