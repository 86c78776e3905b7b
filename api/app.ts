import express, { type Express } from 'express';
import helmet from 'helmet';
import { breakerSettingsFrom, createBreakers, registerBreakerGauge } from '../infra/circuit-breaker';
import { createMetrics } from '../infra/metrics';
import { breakerAlert } from '../infra/ops-alerts';
import { apiOpsAlerter } from './ops-alerts';
import type { ApiDeps, AppDeps } from './deps';
import { adminAuth, bearerAuth } from './middleware/bearer-auth';
import { errorHandler, unknownRoute } from './middleware/errors';
import { httpMetrics } from './middleware/http-metrics';
import { rateLimit } from './middleware/rate-limit';
import { registerGrowthGauges } from './promo/stats';
import { requestLog } from './middleware/request-log';
import { RouteTable } from './route-table';
import { adminActionRoutes } from './routes/admin-actions';
import { adminAuditRoutes } from './routes/admin-audit';
import { adminBroadcastRoutes } from './routes/admin-broadcasts';
import { adminTimelineRoutes } from './routes/admin-timeline';
import { adminNodeRoutes } from './routes/admin-nodes';
import { adminDrainRoutes } from './routes/admin-drain';
import { adminPromoRoutes } from './routes/admin-promo';
import { adminPurchaseActionRoutes } from './routes/admin-purchase-actions';
import { adminPurchaseRoutes } from './routes/admin-purchases';
import { adminStatsRoutes } from './routes/admin-stats';
import { adminTariffRoutes } from './routes/admin-tariffs';
import { adminUserRoutes } from './routes/admin-users';
import { giftRoutes } from './routes/gifts';
import { referralRoutes } from './routes/referral';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { openApiRoutes } from './routes/openapi';
import { adminRefundRoutes } from './routes/admin-refunds';
import { balanceRoutes } from './routes/balance';
import { autoRenewRoutes } from './routes/auto-renew';
import { cancelRoutes } from './routes/cancel';
import { paymentRoutes } from './routes/payments';
import { planChangeRoutes } from './routes/plan-change';
import { promoRoutes } from './routes/promo';
import { starsRoutes } from './routes/stars';
import { subRoutes } from './routes/sub';
import { deviceRoutes } from './routes/devices';
import { deviceRenameRoutes } from './routes/device-rename';
import { subscriptionRoutes } from './routes/subscriptions';
import { tariffRoutes } from './routes/tariffs';
import { trialRoutes } from './routes/trials';
import { userRoutes } from './routes/users';
import { webhookRoutes } from './routes/webhook';

export type { AppDeps } from './deps';

/** Order matters only where patterns overlap: literal paths before their `:param` siblings. */
const ROUTE_GROUPS = [
  healthRoutes,
  metricsRoutes,
  subRoutes,
  webhookRoutes,
  starsRoutes,
  userRoutes,
  balanceRoutes,
  tariffRoutes,
  paymentRoutes,
  trialRoutes,
  promoRoutes,
  subscriptionRoutes,
  referralRoutes,
  giftRoutes,
  cancelRoutes,
  planChangeRoutes,
  autoRenewRoutes,
  deviceRoutes,
  deviceRenameRoutes,
  adminTariffRoutes,
  adminNodeRoutes,
  adminDrainRoutes,
  adminStatsRoutes,
  adminUserRoutes,
  adminPurchaseRoutes,
  adminPurchaseActionRoutes,
  adminActionRoutes,
  adminAuditRoutes,
  adminBroadcastRoutes,
  adminTimelineRoutes,
  adminRefundRoutes,
  adminPromoRoutes,
  openApiRoutes,
];

export interface App extends Express {
  locals: Express['locals'] & { routes: RouteTable; deps: ApiDeps };
}

export function createApp(appDeps: AppDeps): App {
  const metrics = appDeps.metrics ?? createMetrics({ orm: appDeps.orm });
  const alerts = appDeps.alerts ?? apiOpsAlerter(appDeps, metrics);
  const deps: ApiDeps = {
    ...appDeps,
    metrics,
    alerts,
    breakers:
      appDeps.breakers ??
      createBreakers(appDeps.orm, breakerSettingsFrom(appDeps.config), {
        onOpen: breakerAlert(alerts, appDeps.logger),
      }),
  };
  registerBreakerGauge(deps.metrics.registry, deps.breakers);
  registerGrowthGauges(deps.metrics.registry, deps.orm);
  const app = express() as App;
  app.set('trust proxy', false);
  app.set('etag', false);
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(requestLog(deps.logger));
  app.use(httpMetrics(deps.metrics));

  const routes = new RouteTable(
    app,
    {
      api: [bearerAuth(deps.config.API_TOKEN)],
      admin: [adminAuth(deps.config.ADMIN_TOKEN, deps.config.ADMIN_READ_TOKEN, deps.config.ADMIN_TOKENS)],
      metrics: [bearerAuth(deps.config.METRICS_TOKEN)],
      none: [],
    },
    // Only the bot-facing routes: the webhook, /sub and /health stay out of it (their callers are not users).
    { api: [rateLimit({ perSecond: deps.config.API_RATE_LIMIT, burst: deps.config.API_RATE_BURST })] },
  );
  for (const register of ROUTE_GROUPS) register(routes, deps);

  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  app.locals.routes = routes;
  app.locals.deps = deps;
  return app;
}
