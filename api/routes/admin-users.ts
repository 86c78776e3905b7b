import { z } from 'zod';
import { iso, type Row, sql } from '../db';
import type { ApiDeps } from '../deps';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParams } from '../schemas';

const user = z.object({
  user_id: z.string().uuid(),
  telegram_id: z.number().int(),
  username: z.string().nullable(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  language: z.string(),
  referral: z.string().nullable(),
  is_blocked: z.boolean(),
  created_at: z.string(),
});
const subscription = z.object({
  subscription_id: z.string().uuid(),
  status: z.string(),
  tariff_id: z.number().int(),
  tariff_name: z.string(),
  node_id: z.string().uuid(),
  node_name: z.string(),
  starts_at: z.string(),
  expires_at: z.string(),
  upload_bytes: z.number(),
  download_bytes: z.number(),
});
const payment = z.object({
  payment_id: z.string().uuid(),
  provider: z.string(),
  provider_payment_id: z.string().nullable(),
  status: z.string(),
  amount: z.string(),
  currency: z.string(),
  tariff_id: z.number().int().nullable(),
  cancellation_reason: z.string().nullable(),
  telegram_payment_charge_id: z.string().nullable(),
  refund_id: z.string().nullable(),
  created_at: z.string(),
  paid_at: z.string().nullable(),
  refunded_at: z.string().nullable(),
  purpose: z.string().describe('subscription, topup, gift, traffic_pack or upgrade'),
  refunded_amount: z.string().describe('refunded so far (admin and cancel refunds); at most `amount`'),
});

const userView = (r: Row): z.infer<typeof user> => ({
  user_id: r.id,
  telegram_id: Number(r.telegram_id),
  username: r.username,
  first_name: r.first_name,
  last_name: r.last_name,
  language: r.language,
  referral: r.referral,
  is_blocked: r.is_blocked,
  created_at: iso(r.created_at) ?? '',
});

export function adminUserRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/users',
      summary: 'Find users by username prefix (latest 50 without one)',
      tag: 'admin',
      auth: 'admin',
      query: z.object({ username: z.string().min(1).max(64).optional() }),
      responses: { 200: { description: 'Users', schema: z.object({ users: z.array(user) }) } },
    },
    async ({ query }, _req, res) => {
      const prefix = query.username
        ?.replace(/^@/, '')
        .toLowerCase()
        .replace(/[\\%_]/g, '\\$&');
      const rows = prefix
        ? await sql(deps.orm, `select * from users where lower(username) like ? order by username limit 50`, [
            `${prefix}%`,
          ])
        : await sql(deps.orm, `select * from users order by created_at desc limit 50`);
      res.json({ users: rows.map(userView) });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/users/:telegram_id',
      summary: 'One user with all subscriptions and payments',
      tag: 'admin',
      auth: 'admin',
      params: telegramIdParams,
      responses: {
        200: {
          description: 'The user',
          schema: z.object({ user, subscriptions: z.array(subscription), payments: z.array(payment) }),
        },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const u = await requireUser(deps.orm, params.telegram_id);
      const [subs, pays] = await Promise.all([
        sql(
          deps.orm,
          `select s.*, t.name as tariff_name, n.name as node_name from subscriptions s
             join tariffs t on t.id = s.tariff_id join vpn_nodes n on n.id = s.node_id
            where s.user_id = ? order by s.created_at desc`,
          [u.id],
        ),
        sql(deps.orm, `select * from payments where user_id = ? order by created_at desc`, [u.id]),
      ]);
      res.json({
        user: userView(u),
        subscriptions: subs.map((s) => ({
          subscription_id: s.id,
          status: s.status,
          tariff_id: Number(s.tariff_id),
          tariff_name: s.tariff_name,
          node_id: s.node_id,
          node_name: s.node_name,
          starts_at: iso(s.starts_at),
          expires_at: iso(s.expires_at),
          upload_bytes: Number(s.upload_bytes),
          download_bytes: Number(s.download_bytes),
        })),
        payments: pays.map((p) => ({
          payment_id: p.id,
          provider: p.provider,
          provider_payment_id: p.provider_payment_id,
          status: p.status,
          amount: p.amount,
          currency: p.currency,
          tariff_id: p.tariff_id === null ? null : Number(p.tariff_id),
          cancellation_reason: p.cancellation_reason,
          telegram_payment_charge_id: p.telegram_payment_charge_id,
          refund_id: p.refund_id,
          created_at: iso(p.created_at),
          paid_at: iso(p.paid_at),
          refunded_at: iso(p.refunded_at),
          purpose: p.purpose,
          refunded_amount: String(p.refunded_amount),
        })),
      });
    },
  );
}
