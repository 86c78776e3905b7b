import { z } from 'zod';
import { adminIdentity, recordAdminAction } from '../audit';
import { isUniqueViolation, type Row, sql, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { COUNTED_REDEMPTION, normalizeCode } from '../promo/codes';
import type { RouteTable } from '../route-table';
import { errorBody, isoDate } from '../schemas';

const codeText = z
  .string()
  .regex(/^[A-Za-z0-9_-]{3,32}$/, 'must be 3-32 letters, digits, "-" or "_"')
  .transform(normalizeCode);
const fields = z.object({
  code: codeText,
  kind: z.enum(['percent', 'amount', 'days']),
  value: z.number().positive('must be positive').max(1_000_000),
  max_uses: z.number().int().positive().nullable().optional(),
  per_user_limit: z.number().int().positive().max(1000).optional(),
  valid_from: isoDate.nullable().optional(),
  valid_until: isoDate.nullable().optional(),
  tariff_ids: z.array(z.number().int().positive()).max(100).nullable().optional(),
  first_purchase_only: z.boolean().optional(),
});
const createBody = fields.superRefine((b, ctx) => {
  if (b.kind === 'percent' && b.value > 100)
    ctx.addIssue({ code: 'custom', path: ['value'], message: 'a percent code is at most 100' });
  if (b.kind === 'days' && !Number.isInteger(b.value))
    ctx.addIssue({ code: 'custom', path: ['value'], message: 'a days code adds whole days' });
  if (Math.abs(b.value * 100 - Math.round(b.value * 100)) > 1e-6)
    ctx.addIssue({ code: 'custom', path: ['value'], message: 'at most 2 decimals' });
});
const patchBody = fields
  .omit({ code: true, kind: true })
  .partial()
  .extend({ is_active: z.boolean().optional() });
const codeParams = z.object({ code: codeText });

const promoView = z.object({
  code: z.string(),
  kind: z.enum(['percent', 'amount', 'days']),
  value: z.string(),
  max_uses: z.number().int().nullable(),
  per_user_limit: z.number().int(),
  valid_from: z.string().nullable(),
  valid_until: z.string().nullable(),
  tariff_ids: z.array(z.number().int()).nullable(),
  first_purchase_only: z.boolean(),
  is_active: z.boolean(),
  created_at: z.string(),
  stats: z.object({
    activations: z.number().int().describe('redemptions that count: paid, pending, or free days'),
    users: z.number().int(),
    revenue: z
      .string()
      .describe('money taken by succeeded payments with this code (RUB; Stars are separate)'),
    revenue_stars: z.number().int(),
    discount_given: z.string(),
  }),
});

const STATS_SELECT = `select c.*,
    coalesce(s.activations, 0) as activations, coalesce(s.users, 0) as users,
    coalesce(s.revenue, 0) as revenue, coalesce(s.revenue_stars, 0) as revenue_stars, coalesce(s.discount_given, 0) as discount_given
  from promo_codes c left join lateral (
    select count(*)::int as activations, count(distinct r.user_id)::int as users,
           sum(p.amount) filter (where p.status = 'succeeded' and p.currency <> 'XTR') as revenue,
           sum(p.amount) filter (where p.status = 'succeeded' and p.currency = 'XTR')::int as revenue_stars,
           sum(r.discount) filter (where p.status = 'succeeded' and r.currency <> 'XTR') as discount_given
      from promo_redemptions r left join payments p on p.id = r.payment_id
     where r.code = c.code and ${COUNTED_REDEMPTION}) s on true`;

const money = (v: unknown) => Number(v ?? 0).toFixed(2);
const isoOrNull = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

function view(row: Row) {
  return {
    code: row.code,
    kind: row.kind,
    value: String(row.value),
    max_uses: row.max_uses,
    per_user_limit: row.per_user_limit,
    valid_from: isoOrNull(row.valid_from),
    valid_until: isoOrNull(row.valid_until),
    tariff_ids: row.tariff_ids ? row.tariff_ids.map(Number) : null,
    first_purchase_only: row.first_purchase_only,
    is_active: row.is_active,
    created_at: new Date(row.created_at).toISOString(),
    stats: {
      activations: Number(row.activations),
      users: Number(row.users),
      revenue: money(row.revenue),
      revenue_stars: Number(row.revenue_stars),
      discount_given: money(row.discount_given),
    },
  };
}

const readOne = (deps: ApiDeps, code: string) => sqlOne(deps.orm, `${STATS_SELECT} where c.code = ?`, [code]);

export function adminPromoRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/promo-codes',
      summary: 'Promo codes with their stats (activations, users, revenue)',
      tag: 'admin',
      auth: 'admin',
      responses: {
        200: { description: 'All codes, newest first', schema: z.object({ codes: z.array(promoView) }) },
      },
    },
    async (_input, _req, res) => {
      const rows = await sql(deps.orm, `${STATS_SELECT} order by c.created_at desc`);
      res.json({ codes: rows.map(view) });
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/promo-codes',
      summary: 'Create a promo code (percent off, amount off, or free days)',
      tag: 'admin',
      auth: 'admin',
      body: createBody,
      responses: {
        201: { description: 'Created', schema: promoView },
        409: { description: '`code_taken`', schema: errorBody },
        422: { description: 'A field is invalid; the body names it', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      const audit = (result: 'ok' | 'refused', detail?: string) =>
        recordAdminAction(deps.orm, {
          admin: adminIdentity(res),
          action: 'promo.create',
          target: `promo:${body.code}`,
          params: body,
          result,
          detail,
        });
      try {
        await sql(
          deps.orm,
          `insert into promo_codes (code, kind, value, max_uses, per_user_limit, valid_from, valid_until, tariff_ids, first_purchase_only)
           values (?, ?, ?, ?, ?, ?, ?, ?::int[], ?)`,
          [
            body.code,
            body.kind,
            body.value,
            body.max_uses ?? null,
            body.per_user_limit ?? 1,
            body.valid_from ?? null,
            body.valid_until ?? null,
            body.tariff_ids ? `{${body.tariff_ids.join(',')}}` : null,
            body.first_purchase_only ?? false,
          ],
        );
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (isUniqueViolation(err)) {
          await audit('refused', 'code_taken');
          throw new HttpError(409, 'code_taken', 'a promo code with this text exists', 'code');
        }
        if (code === '23514') {
          await audit('refused', 'check_violation');
          throw new HttpError(
            422,
            'validation_failed',
            'valid_from must be before valid_until',
            'valid_until',
          );
        }
        throw err;
      }
      await audit('ok');
      res.status(201).json(view((await readOne(deps, body.code))!));
    },
  );

  routes.add(
    {
      method: 'patch',
      path: '/api/v1/admin/promo-codes/:code',
      summary: 'Change a promo code (limits, validity, tariffs) or switch it off (is_active: false)',
      tag: 'admin',
      auth: 'admin',
      params: codeParams,
      body: patchBody,
      responses: {
        200: { description: 'Changed', schema: promoView },
        404: { description: 'Unknown code', schema: errorBody },
        422: { description: 'A field is invalid; the body names it', schema: errorBody },
      },
    },
    async ({ params, body }, _req, res) => {
      const existing = await readOne(deps, params.code);
      if (!existing) throw notFound('promo_not_found', 'no such promo code');
      const sets: string[] = [];
      const values: unknown[] = [];
      const put = (column: string, value: unknown, cast = '') => {
        sets.push(`${column} = ?${cast}`);
        values.push(value);
      };
      if (body.value !== undefined) put('value', body.value);
      if (body.max_uses !== undefined) put('max_uses', body.max_uses);
      if (body.per_user_limit !== undefined) put('per_user_limit', body.per_user_limit);
      if (body.valid_from !== undefined) put('valid_from', body.valid_from);
      if (body.valid_until !== undefined) put('valid_until', body.valid_until);
      if (body.tariff_ids !== undefined)
        put('tariff_ids', body.tariff_ids ? `{${body.tariff_ids.join(',')}}` : null, '::int[]');
      if (body.first_purchase_only !== undefined) put('first_purchase_only', body.first_purchase_only);
      if (body.is_active !== undefined) put('is_active', body.is_active);
      const audit = (result: 'ok' | 'refused', detail?: string) =>
        recordAdminAction(deps.orm, {
          admin: adminIdentity(res),
          action: 'promo.update',
          target: `promo:${params.code}`,
          params: body,
          result,
          detail,
        });
      if (sets.length > 0) {
        try {
          await sql(
            deps.orm,
            `update promo_codes set ${sets.join(', ')}, updated_at = now() where code = ?`,
            [...values, params.code],
          );
        } catch (err) {
          if ((err as { code?: string }).code === '23514') {
            await audit('refused', 'check_violation');
            throw new HttpError(
              422,
              'validation_failed',
              'the code would break its own rules (value, validity window)',
              'value',
            );
          }
          throw err;
        }
      }
      await audit('ok');
      res.json(view((await readOne(deps, params.code))!));
    },
  );
}
