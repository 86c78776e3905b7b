import type { ApiDeps } from '../deps';
import { HttpError } from '../errors';
import type { RouteTable } from '../route-table';
import { errorBody } from '../schemas';

/**
 * Prometheus behind its own bearer (METRICS_TOKEN). Without a token configured the route refuses every scrape
 * (403 metrics_disabled): business figures are never public by accident.
 */
export function metricsRoutes(routes: RouteTable, deps: ApiDeps): void {
  const token = deps.config.METRICS_TOKEN;
  routes.add(
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (Authorization: Bearer $METRICS_TOKEN)',
      tag: 'ops',
      auth: 'metrics',
      before: token
        ? []
        : [
            () => {
              throw new HttpError(
                403,
                'metrics_disabled',
                'METRICS_TOKEN is not set: metrics are not served',
              );
            },
          ],
      responses: {
        200: { description: 'Prometheus text exposition format', contentType: 'text/plain' },
        403: { description: 'METRICS_TOKEN is not set on the server', schema: errorBody },
      },
    },
    async (_input, _req, res) => {
      const { registry } = deps.metrics;
      res.set('content-type', registry.contentType).send(await registry.metrics());
    },
  );
}
