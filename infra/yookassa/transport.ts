/**
 * One HTTP exchange with YooKassa: Basic auth, Idempotence-Key, timeout, and the translation of
 * every outcome into a value or one of the two error classes (see errors.ts).
 */
import type { z } from 'zod';
import { createLogger } from '../logger';
import { YooKassaRejectedError, YooKassaUnavailableError } from './errors';

export interface TransportOptions {
  apiUrl: string;
  shopId: string;
  secretKey: string;
  timeoutMs: number;
}

export interface PostPart {
  idempotenceKey: string;
  body: unknown;
}

export type YooKassaCall = <T>(
  operation: string,
  method: 'GET' | 'POST',
  path: string,
  schema: z.ZodTypeAny,
  post?: PostPart,
) => Promise<T>;

const log = createLogger('yookassa');

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_credentials',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
  500: 'internal_server_error',
};

export function createTransport(options: TransportOptions): YooKassaCall {
  const base = options.apiUrl.replace(/\/+$/, '');
  // Built once; neither it nor the secret ever reaches a log line.
  const authorization = `Basic ${Buffer.from(`${options.shopId}:${options.secretKey}`).toString('base64')}`;
  const { timeoutMs } = options;

  return async function call<T>(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodTypeAny,
    post?: PostPart,
  ): Promise<T> {
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (post) {
      assertIdempotenceKey(post.idempotenceKey);
      headers['content-type'] = 'application/json';
      headers['idempotence-key'] = post.idempotenceKey;
    }
    const started = Date.now();
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      // One signal covers connect, headers and body: a stalled body is a timeout too.
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: post ? JSON.stringify(post.body) : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : `network error: ${describe(err)}`;
      log.warn({ operation, ms: Date.now() - started, timedOut }, 'yookassa request failed');
      throw new YooKassaUnavailableError(operation, reason, { timedOut, cause: err });
    }
    log.debug({ operation, status, ms: Date.now() - started }, 'yookassa request');

    if (status >= 200 && status < 300) {
      const parsed = schema.safeParse(parseJson(text));
      // A 2xx we cannot read (proxy page, truncated body) leaves the outcome unknown.
      if (!parsed.success) throw new YooKassaUnavailableError(operation, `unreadable ${status} answer`);
      return parsed.data as T;
    }
    const body = errorFields(parseJson(text));
    const code = body.code ?? CODE_BY_STATUS[status] ?? `http_${status}`;
    if (status === 429 || status >= 500) {
      log.warn({ operation, status, code }, 'yookassa unavailable');
      const retryAfterMs = parseRetryAfter(retryAfter);
      throw new YooKassaUnavailableError(operation, `${status} ${code}`, { status, code, retryAfterMs });
    }
    const { description, parameter, id: errorId } = body;
    throw new YooKassaRejectedError(operation, { status, code, description, parameter, errorId });
  };
}

function assertIdempotenceKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 64) {
    throw new RangeError('Idempotence-Key must be 1..64 characters');
  }
}

/** Reads YooKassa's error body leniently: a proxy's HTML page yields no fields. */
function errorFields(body: unknown): {
  code?: string;
  description?: string;
  parameter?: string;
  id?: string;
} {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === 'string' ? (record[key] as string) : undefined);
  return {
    code: text('code'),
    description: text('description'),
    parameter: text('parameter'),
    id: text('id'),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
