/**
 * The emulated `/v3` API surface: Basic auth, JSON-only POSTs, faults, Idempotence-Key replay, and
 * YooKassa's error body on every non-200 answer.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import {
  createFaultInjector,
  type EmulatorFaults,
  FAIL_AFTER_COMMIT,
  internalError,
} from './emulator-faults';
import {
  createIdempotencyStore,
  requestFingerprint,
  requireIdempotenceKey,
  type StoredAnswer,
} from './emulator-idempotency';
import type { Ledger } from './emulator-ledger';
import { ApiError } from './emulator-validation';
import type { ErrorBody } from './types';

export interface ApiRouterOptions {
  shopId: string;
  secretKey: string;
  ledger: Ledger;
  faults: EmulatorFaults;
  log: Logger;
}

type IdRequest = Request<{ id: string }>;

export function createApiRouter(options: ApiRouterOptions): { router: Router; releaseHung: () => void } {
  const { ledger, log } = options;
  const idempotency = createIdempotencyStore();
  const injector = createFaultInjector(options.faults, sendError);

  const toApiError = (err: unknown): ApiError => {
    if (err instanceof ApiError) return err;
    const status = (err as { status?: number })?.status;
    if (status === 400) return new ApiError(400, 'invalid_request', 'Request body is not valid JSON');
    if (status === 413) return new ApiError(400, 'invalid_request', 'Request body is too large');
    log.error({ err }, 'emulator bug');
    return internalError();
  };

  const execute = (run: (req: IdRequest) => unknown, req: IdRequest): StoredAnswer => {
    try {
      return { status: 200, body: run(req) };
    } catch (err) {
      const apiError = toApiError(err);
      if (apiError.status >= 500) throw apiError; // never stored: a retry must be able to succeed
      return { status: apiError.status, body: errorBody(apiError) };
    }
  };

  const route = (run: (req: IdRequest) => unknown) => (req: IdRequest, res: Response) => {
    let answer: StoredAnswer;
    try {
      if (req.method === 'POST') {
        const key = requireIdempotenceKey(req.get('Idempotence-Key'));
        const fingerprint = requestFingerprint(req.method, req.baseUrl + req.path, req.body);
        const replay = idempotency.lookup(key, fingerprint);
        answer = replay ?? execute(run, req);
        if (!replay) idempotency.remember(key, fingerprint, answer);
      } else {
        answer = execute(run, req);
      }
    } catch (err) {
      sendError(res, toApiError(err));
      return;
    }
    // The "outcome unknown" fault: the work is done and stored, but the caller sees a 500.
    if (res.locals[FAIL_AFTER_COMMIT]) sendError(res, internalError());
    else res.status(answer.status).json(answer.body);
  };

  const router = express.Router();
  router.use(basicAuth(options.shopId, options.secretKey));
  router.use(requireJsonPosts);
  router.use(express.json());
  router.use(injector.middleware);
  router.post(
    '/payments',
    route((req) => ledger.createPayment(req.body)),
  );
  router.get(
    '/payments/:id',
    route((req) => ledger.getPayment(req.params.id)),
  );
  router.post(
    '/payments/:id/capture',
    route((req) => ledger.capturePayment(req.params.id, req.body)),
  );
  router.post(
    '/payments/:id/cancel',
    route((req) => ledger.cancelPayment(req.params.id)),
  );
  router.post(
    '/refunds',
    route((req) => ledger.createRefund(req.body)),
  );
  router.get(
    '/refunds/:id',
    route((req) => ledger.getRefund(req.params.id)),
  );
  router.use((_req, res) => sendError(res, new ApiError(404, 'not_found', 'Unknown API method')));
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) =>
    sendError(res, toApiError(err)),
  );
  return { router, releaseHung: injector.releaseHung };
}

function errorBody(err: ApiError): ErrorBody {
  return {
    type: 'error',
    id: randomUUID(),
    code: err.code,
    description: err.message,
    ...(err.parameter ? { parameter: err.parameter } : {}),
  };
}

function sendError(res: Response, err: ApiError): void {
  res.status(err.status).json(errorBody(err));
}

function requireJsonPosts(req: Request, res: Response, next: NextFunction): void {
  // req.is() is null for a body-less request, false for a body of another type.
  if (req.method === 'POST' && req.is('application/json') === false) {
    sendError(res, new ApiError(415, 'invalid_request', 'Content-Type must be application/json'));
  } else {
    next();
  }
}

function basicAuth(shopId: string, secretKey: string) {
  const expectedUser = digest(shopId);
  const expectedSecret = digest(secretKey);
  return (req: Request, res: Response, next: NextFunction): void => {
    const match = /^basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    // Compare digests so timing does not reveal how much of the secret matched.
    const userOk = colon > 0 && timingSafeEqual(digest(decoded.slice(0, colon)), expectedUser);
    const secretOk = colon > 0 && timingSafeEqual(digest(decoded.slice(colon + 1)), expectedSecret);
    if (userOk && secretOk) next();
    else
      sendError(res, new ApiError(401, 'invalid_credentials', 'Authentication by given credentials failed'));
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
