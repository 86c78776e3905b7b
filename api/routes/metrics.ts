import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';

export function metricsRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      tag: 'public',
      auth: 'none',
      responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
    },
    async (_input, _req, res) => {
      const { registry } = deps.metrics;
      res.set('content-type', registry.contentType).send(await registry.metrics());
    },
  );
}
