import type { RequestHandler } from 'express';
import { z } from 'zod';
import { createSourceAllowlist } from '../../infra/net/allowlist';
import type { ApiDeps } from '../deps';
import { handleYooKassaNotification, yookassaNotification } from '../payment-webhook';
import type { RouteTable } from '../route-table';
import { errorBody } from '../schemas';

/** 403 unless the caller is in YOOKASSA_WEBHOOK_ALLOW; X-Forwarded-For counts only from TRUSTED_PROXIES. */
function sourceAllowlist(deps: ApiDeps): RequestHandler {
  const allowlist = createSourceAllowlist({
    cidrs: deps.config.YOOKASSA_WEBHOOK_ALLOW,
    trustedProxies: deps.config.TRUSTED_PROXIES,
  });
  return (req, res, next) => {
    const remote = req.socket.remoteAddress ?? '';
    if (allowlist.isAllowed(remote, req.get('x-forwarded-for'))) return next();
    deps.metrics.webhookRejections.inc({ reason: 'forbidden_source' });
    deps.logger.warn(
      { remote, forwardedFor: req.get('x-forwarded-for') },
      'webhook from a source not allowlisted',
    );
    res.status(403).json({ error: 'forbidden' });
  };
}

export function webhookRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/payments/webhook',
      summary: 'YooKassa HTTP notification; acted on only after re-reading the payment from YooKassa',
      tag: 'public',
      auth: 'none',
      before: [sourceAllowlist(deps)],
      body: yookassaNotification,
      invalidStatus: 400,
      // YooKassa's object is free-form and never trusted: only the declared fields are read (and checked).
      freeFormBody: true,
      responses: {
        200: {
          description: 'Handled, duplicate, or unknown (logged)',
          schema: z.object({ status: z.literal('ok') }),
        },
        400: { description: 'Not a YooKassa notification', schema: errorBody },
        403: { description: 'Source address not allowlisted', schema: errorBody },
        503: { description: 'YooKassa cannot be reached to verify: it will redeliver', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      const outcome = await handleYooKassaNotification(deps, body);
      res.locals.outcome = outcome;
      res.json({ status: 'ok' });
    },
  );
}
