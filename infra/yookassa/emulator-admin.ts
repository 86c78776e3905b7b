/**
 * `/__emulator/*`: lets a test in another process (or a human during `npm run dev`) drive the
 * emulator: move payments, arm faults, point webhooks somewhere, inspect what happened.
 * Not part of YooKassa's API; unauthenticated, so the emulator listens on loopback by default.
 */
import express, { type Request, type Response, type Router } from 'express';
import { applyFaultPatch, type EmulatorFaults } from './emulator-faults';
import type { Ledger } from './emulator-ledger';
import { ApiError, isHttpUrl, isObject } from './emulator-validation';
import type { WebhookDelivery } from './emulator-webhooks';

export interface AdminDeps {
  ledger: Ledger;
  faults: EmulatorFaults;
  getWebhookUrl: () => string | undefined;
  setWebhookUrl: (url: string | undefined) => void;
  deliveries: () => WebhookDelivery[];
  setFiscalisation: (on: boolean) => void;
}

type IdRequest = Request<{ id: string }>;

export function adminRouter(deps: AdminDeps): Router {
  const router = express.Router();
  router.use(express.json());

  const handle = (run: (req: IdRequest) => unknown) => (req: IdRequest, res: Response) => {
    try {
      res.json(run(req));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      res.status(err.status).json({ error: err.code, description: err.message, parameter: err.parameter });
    }
  };

  router.get(
    '/payments',
    handle(() => deps.ledger.listPayments()),
  );
  router.get(
    '/refunds',
    handle(() => deps.ledger.listRefunds()),
  );
  router.get(
    '/saved-methods',
    handle(() => deps.ledger.listSavedMethods()),
  );
  router.get(
    '/deliveries',
    handle(() => deps.deliveries()),
  );
  router.post(
    '/payments/:id/pay',
    handle((req) => deps.ledger.pay(req.params.id)),
  );
  router.post(
    '/payments/:id/decline',
    handle((req) => deps.ledger.decline(req.params.id, reasonOf(req.body))),
  );
  router.post(
    '/payments/:id/expire',
    handle((req) => deps.ledger.expire(req.params.id)),
  );
  router.get(
    '/faults',
    handle(() => deps.faults),
  );
  router.post(
    '/faults',
    handle((req) => {
      applyFaultPatch(deps.faults, req.body);
      return deps.faults;
    }),
  );
  router.put(
    '/fiscalisation',
    handle((req) => {
      const on = isObject(req.body) ? req.body.on : undefined;
      if (typeof on !== 'boolean') throw new ApiError(400, 'invalid_request', 'on must be a boolean', 'on');
      deps.setFiscalisation(on);
      return { on };
    }),
  );
  router.get(
    '/webhook-url',
    handle(() => ({ url: deps.getWebhookUrl() ?? null })),
  );
  router.put(
    '/webhook-url',
    handle((req) => {
      const url = isObject(req.body) ? req.body.url : undefined;
      if (url !== null && (typeof url !== 'string' || !isHttpUrl(url))) {
        throw new ApiError(400, 'invalid_request', 'url must be an http(s) URL or null', 'url');
      }
      deps.setWebhookUrl(url ?? undefined);
      return { url };
    }),
  );
  return router;
}

function reasonOf(body: unknown): string | undefined {
  if (!isObject(body) || body.reason === undefined) return undefined;
  if (typeof body.reason !== 'string')
    throw new ApiError(400, 'invalid_request', 'reason must be a string', 'reason');
  return body.reason;
}
