import { z } from 'zod';
import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';

const CHECK_TIMEOUT_MS = 2000;
const checkState = z.enum(['ok', 'error']);
const breakerState = z
  .enum(['closed', 'open', 'half_open', 'unknown'])
  .describe('Circuit breaker on the provider; informational, it never makes /health 503');
const healthBody = z.object({
  status: z.enum(['ok', 'error']),
  checks: z.object({
    postgres: checkState,
    temporal: checkState,
    yookassa: breakerState,
    telegram: breakerState,
  }),
});

async function check(name: string, deps: ApiDeps, probe: () => Promise<unknown>): Promise<'ok' | 'error'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (err) {
    deps.logger.warn({ check: name, err: (err as Error).message }, 'health check failed');
    return 'error';
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/health',
      summary:
        'Liveness and dependencies: PostgreSQL and Temporal (503 when one fails), plus the YooKassa and Telegram circuit breakers (informational)',
      tag: 'public',
      auth: 'none',
      responses: {
        200: { description: 'Everything reachable', schema: healthBody },
        503: { description: 'A dependency is failing; `checks` names it', schema: healthBody },
      },
    },
    async (_input, _req, res) => {
      const [postgres, temporal] = await Promise.all([
        check('postgres', deps, () => deps.orm.em.getConnection().execute('select 1')),
        check('temporal', deps, () => deps.temporal.workflowService.getSystemInfo({})),
      ]);
      // A provider outage is not this process's fault: restarting or unrouting the API would also stop
      // Stars, subscriptions and webhooks. So breaker states are shown, never a reason for 503.
      const breakers = await deps.breakers.states().catch(() => undefined);
      const ok = postgres === 'ok' && temporal === 'ok';
      res.status(ok ? 200 : 503).json({
        status: ok ? 'ok' : 'error',
        checks: {
          postgres,
          temporal,
          yookassa: breakers?.yookassa ?? 'unknown',
          telegram: breakers?.telegram ?? 'unknown',
        },
      });
    },
  );
}
