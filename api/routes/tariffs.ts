import { z } from 'zod';
import { sql } from '../db';
import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';
import { telegramIdParam } from '../schemas';
import { publicTariff, tariffView } from '../tariff-view';
import type { TariffRow } from '../../infra/db/rows';

export function tariffRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/tariffs',
      summary: 'Active tariffs in display order; with telegram_id, the view counts for conversion stats',
      tag: 'bot',
      auth: 'api',
      query: z.object({ telegram_id: telegramIdParam.optional() }),
      responses: {
        200: { description: 'The catalog', schema: z.object({ tariffs: z.array(publicTariff) }) },
      },
    },
    async ({ query }, _req, res) => {
      const rows = await sql<TariffRow>(
        deps.orm,
        `select * from tariffs where is_active order by display_order, id`,
      );
      if (query.telegram_id) {
        await sql(
          deps.orm,
          `insert into catalog_views (user_id) select id from users where telegram_id = ?`,
          [query.telegram_id],
        );
      }
      res.json({ tariffs: rows.map((r) => publicTariff.parse(tariffView(r))) });
    },
  );
}
