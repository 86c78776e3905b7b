import { z } from 'zod';
import { parseDuration } from '../../infra/duration';
import { isUniqueViolation, sql, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, invalidField, notFound } from '../errors';
import type { RouteTable } from '../route-table';
import { currency, errorBody, numericIdParams, price } from '../schemas';
import { planLimitColumns, planLimitFields } from '../tariff-limits';
import { adminTariff, tariffView } from '../tariff-view';
import type { TariffRow } from '../../infra/db/rows';

const tariffFields = z.object({
  slug: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lowercase letters, digits, "-" or "_" (≤ 64)'),
  name: z.string().min(1).max(128),
  description: z.string().max(4000).optional(),
  price,
  currency,
  duration_days: z
    .number()
    .positive('must be positive')
    .max(36_500, 'must be at most 36500 (100 years)')
    .optional(),
  duration: z
    .string()
    .max(32)
    .optional()
    .describe('ISO-8601 duration such as "P30D", "PT1H", "PT2M" (or "30d", "1h")'),
  star_price: z.number().int().positive().max(1_000_000).nullable().optional(),
  location: z.string().min(1).max(64).nullable().optional(),
  ...planLimitFields,
  is_active: z.boolean().optional(),
  display_order: z.number().int().min(-1_000_000).max(1_000_000).optional(),
});
const createBody = tariffFields;
const patchBody = tariffFields.partial();
type TariffInput = z.infer<typeof patchBody>;

/** duration_days or duration → whole seconds; undefined when neither was given. */
function durationSeconds(body: TariffInput): number | undefined {
  if (body.duration_days !== undefined && body.duration !== undefined) {
    throw invalidField('duration', 'give duration_days or duration, not both');
  }
  if (body.duration_days !== undefined) return Math.round(body.duration_days * 86_400) || 1;
  if (body.duration === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(body.duration);
  } catch (err) {
    throw invalidField('duration', (err as Error).message);
  }
  if (ms % 1000 !== 0) throw invalidField('duration', 'must be a whole number of seconds');
  return ms / 1000;
}

/** Column → value for the fields present in the body. */
function columns(body: TariffInput): Record<string, unknown> {
  const seconds = durationSeconds(body);
  const map: Record<string, unknown> = {
    slug: body.slug,
    name: body.name,
    description: body.description,
    price: body.price,
    currency: body.currency,
    duration_seconds: seconds,
    star_price: body.star_price,
    ...planLimitColumns(body),
    is_active: body.is_active,
    display_order: body.display_order,
  };
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v !== undefined));
}

/** SQL placeholder of one column; arrays travel as JSON because the query builder would spread them. */
const placeholder = (name: string) =>
  name === 'locations' ? `array(select jsonb_array_elements_text(?::jsonb))` : '?';
const bindings = (cols: Record<string, unknown>) =>
  Object.entries(cols).map(([name, v]) => (name === 'locations' ? JSON.stringify(v) : v));

async function write(run: () => Promise<TariffRow[]>): Promise<TariffRow> {
  try {
    const [row] = await run();
    if (!row) throw notFound('tariff_not_found');
    return row;
  } catch (err) {
    if (isUniqueViolation(err))
      throw new HttpError(409, 'slug_taken', 'another tariff has this slug', 'slug');
    throw err;
  }
}

export function adminTariffRoutes(routes: RouteTable, deps: ApiDeps): void {
  const common = { tag: 'admin', auth: 'admin' as const };
  const list = z.object({ tariffs: z.array(adminTariff) });

  routes.add(
    {
      ...common,
      method: 'get',
      path: '/api/v1/admin/tariffs',
      summary: 'All tariffs, active or not',
      responses: { 200: { description: 'Tariffs', schema: list } },
    },
    async (_input, _req, res) => {
      const rows = await sql<TariffRow>(deps.orm, `select * from tariffs order by display_order, id`);
      res.json({ tariffs: rows.map(tariffView) });
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/tariffs',
      summary: 'Create a tariff (duration_days or an ISO-8601 duration: hourly and minute tariffs are legal)',
      body: createBody,
      responses: {
        201: { description: 'Created', schema: adminTariff },
        409: { description: 'Slug taken', schema: errorBody },
        422: { description: 'A field is invalid', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      const cols = columns(body);
      if (cols.duration_seconds === undefined)
        throw invalidField('duration_days', 'duration_days or duration is required');
      const names = Object.keys(cols);
      const row = await write(() =>
        sql<TariffRow>(
          deps.orm,
          `insert into tariffs (${names.join(', ')}) values (${names.map(placeholder).join(', ')}) returning *`,
          bindings(cols),
        ),
      );
      res.status(201).json(tariffView(row));
    },
  );

  routes.add(
    {
      ...common,
      method: 'patch',
      path: '/api/v1/admin/tariffs/:id',
      summary: 'Change a tariff; running purchases keep the snapshot they started with',
      params: numericIdParams,
      body: patchBody,
      responses: {
        200: { description: 'Updated', schema: adminTariff },
        404: { description: 'Unknown tariff', schema: errorBody },
        409: { description: 'Slug taken', schema: errorBody },
        422: { description: 'A field is invalid', schema: errorBody },
      },
    },
    async ({ params, body }, _req, res) => {
      const cols = columns(body);
      const names = Object.keys(cols);
      const row = names.length
        ? await write(() =>
            sql<TariffRow>(
              deps.orm,
              `update tariffs set ${names.map((n) => `${n} = ${placeholder(n)}`).join(', ')} where id = ? returning *`,
              [...bindings(cols), params.id],
            ),
          )
        : await sqlOne<TariffRow>(deps.orm, `select * from tariffs where id = ?`, [params.id]);
      if (!row) throw notFound('tariff_not_found');
      res.json(tariffView(row));
    },
  );
}
