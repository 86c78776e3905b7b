import { z } from 'zod';
import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';
import { blankIsAbsent, errorBody } from '../schemas';
import { collectStats, isTimeZone, statsBody } from '../stats';

export function adminStatsRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/stats',
      summary:
        'Users, active subscriptions, revenue by day and month, catalog → purchase conversion, load per node',
      tag: 'admin',
      auth: 'admin',
      query: z.object({
        tz: blankIsAbsent(
          z
            .string()
            .max(64)
            .refine(isTimeZone, 'must be an IANA time zone such as Europe/Moscow')
            .default('UTC'),
        ).describe('time zone for calendar days and months (empty = UTC)'),
      }),
      responses: {
        200: { description: 'Figures', schema: statsBody },
        422: { description: 'Unknown time zone', schema: errorBody },
      },
    },
    async ({ query }, _req, res) => {
      res.json(await collectStats(deps.orm, query.tz));
    },
  );
}
