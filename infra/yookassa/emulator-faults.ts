/**
 * Switchable failures of the emulated API. Counters are consumed one per authenticated /v3 request,
 * so `faults.failNext500 = 2` fails exactly the next two calls.
 */
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from './emulator-validation';

export interface EmulatorFaults {
  /** Answer 500 without doing anything: a retry with the same key performs the operation. */
  failNext500: number;
  /** Hold the request without an answer for `hangMs`, then drop the connection. Nothing is done. */
  timeoutNext: number;
  /** Answer 429 too_many_requests. */
  rateLimitNext: number;
  /** Perform the operation (and store it under the Idempotence-Key), then answer 500: outcome unknown. */
  failNextAfterCommit: number;
  /** Lose notifications instead of sending them. */
  dropWebhooks: boolean;
  /** How long a `timeoutNext` request hangs; keep it above the client's timeout. */
  hangMs: number;
  /** The bank declines the next charges of a saved method (`payment_method_id`): canceled, insufficient_funds. */
  declineSavedChargeNext: number;
}

export const DEFAULT_FAULTS: EmulatorFaults = {
  failNext500: 0,
  timeoutNext: 0,
  rateLimitNext: 0,
  failNextAfterCommit: 0,
  dropWebhooks: false,
  hangMs: 30_000,
  declineSavedChargeNext: 0,
};

/** Merges a partial update (from the admin HTTP surface), rejecting unknown keys and wrong types. */
export function applyFaultPatch(faults: EmulatorFaults, patch: unknown): void {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new ApiError(400, 'invalid_request', 'faults patch must be a JSON object');
  }
  for (const [key, value] of Object.entries(patch)) {
    if (!(key in DEFAULT_FAULTS)) throw new ApiError(400, 'invalid_request', `unknown fault "${key}"`, key);
    const expected = typeof DEFAULT_FAULTS[key as keyof EmulatorFaults];
    const ok = expected === 'boolean' ? typeof value === 'boolean' : Number.isInteger(value) && value >= 0;
    if (!ok) throw new ApiError(400, 'invalid_request', `fault "${key}" must be a ${expected}`, key);
  }
  Object.assign(faults, patch);
}

export const FAIL_AFTER_COMMIT = 'yookassaEmulatorFailAfterCommit';

/**
 * Express middleware applying the armed faults. `releaseHung` drops the requests `timeoutNext` is
 * holding, so a closing server does not wait for them.
 */
export function createFaultInjector(faults: EmulatorFaults, fail: (res: Response, err: ApiError) => void) {
  const hung = new Map<Response, NodeJS.Timeout>();

  function middleware(_req: Request, res: Response, next: NextFunction): void {
    if (faults.rateLimitNext > 0) {
      faults.rateLimitNext--;
      fail(res, new ApiError(429, 'too_many_requests', 'Too many requests, try again later'));
    } else if (faults.failNext500 > 0) {
      faults.failNext500--;
      fail(res, internalError());
    } else if (faults.timeoutNext > 0) {
      faults.timeoutNext--;
      hung.set(
        res,
        setTimeout(() => res.socket?.destroy(), faults.hangMs),
      );
      res.on('close', () => {
        clearTimeout(hung.get(res));
        hung.delete(res);
      });
    } else {
      if (faults.failNextAfterCommit > 0) {
        faults.failNextAfterCommit--;
        res.locals[FAIL_AFTER_COMMIT] = true;
      }
      next();
    }
  }

  function releaseHung(): void {
    for (const [res, timer] of hung) {
      clearTimeout(timer);
      res.socket?.destroy();
    }
    hung.clear();
  }

  return { middleware, releaseHung };
}

export function internalError(): ApiError {
  return new ApiError(500, 'internal_server_error', 'Internal server error, the result is unknown');
}
