import { z } from 'zod';
import { createLogger } from '../logger';
import { AMOUNT_PATTERN, toAmountString } from './amount';
import { YooKassaRejectedError, YooKassaUnavailableError } from './errors';
import type { Payment, Receipt, Refund } from './types';

export { toAmountString } from './amount';
export { isRetryable, YooKassaError, YooKassaRejectedError, YooKassaUnavailableError } from './errors';

/** 54-FZ receipt defaults; a receipt is attached only when the caller also gives `receiptEmail`. */
export interface ReceiptDefaults {
  /** YooKassa vat_code: 1 = without VAT, 2 = 0%, 3 = 10%, 4 = 20%, ... */
  vatCode: number;
  paymentMode?: string;
  paymentSubject?: string;
  taxSystemCode?: number;
}

export interface YooKassaClientOptions {
  /** e.g. https://api.yookassa.ru/v3 */
  apiUrl: string;
  shopId: string;
  secretKey: string;
  /** Where YooKassa sends the buyer after the checkout page, unless a payment overrides it. */
  returnUrl: string;
  timeoutMs?: number;
  receipt?: ReceiptDefaults;
}

export interface CreatePaymentInput {
  /** Derived by the caller from our own ids, so a retry after a crash reuses it. ≤ 64 chars. */
  idempotenceKey: string;
  /** "299.00" */
  amount: string;
  currency: string;
  description: string;
  metadata: Record<string, string>;
  returnUrl?: string;
  receiptEmail?: string;
}

export interface CreateRefundInput {
  idempotenceKey: string;
  paymentId: string;
  amount: string;
  currency: string;
  description?: string;
}

export interface YooKassaClient {
  createPayment(input: CreatePaymentInput): Promise<Payment>;
  getPayment(id: string): Promise<Payment>;
  cancelPayment(id: string, idempotenceKey: string): Promise<Payment>;
  createRefund(input: CreateRefundInput): Promise<Refund>;
  getRefund(id: string): Promise<Refund>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const log = createLogger('yookassa');

const amountSchema = z.object({ value: z.string().regex(AMOUNT_PATTERN), currency: z.string() });
// Only what we rely on is checked; other fields pass through untouched.
const paymentSchema = z
  .object({
    id: z.string().min(1),
    status: z.enum(['pending', 'waiting_for_capture', 'succeeded', 'canceled']),
    paid: z.boolean(),
    amount: amountSchema,
    created_at: z.string(),
  })
  .passthrough();
const refundSchema = z
  .object({
    id: z.string().min(1),
    payment_id: z.string().min(1),
    status: z.enum(['pending', 'succeeded', 'canceled']),
    amount: amountSchema,
    created_at: z.string(),
  })
  .passthrough();
const errorSchema = z
  .object({ code: z.string(), description: z.string(), parameter: z.string(), id: z.string() })
  .partial()
  .passthrough();

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_credentials',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
  500: 'internal_server_error',
};

export function createYooKassaClient(options: YooKassaClientOptions): YooKassaClient {
  const base = options.apiUrl.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${options.shopId}:${options.secretKey}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function call<T>(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
    post?: { idempotenceKey: string; body: unknown },
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
      return parsed.data;
    }
    const error = errorSchema.safeParse(parseJson(text));
    const body = error.success ? error.data : {};
    const code = body.code ?? CODE_BY_STATUS[status] ?? `http_${status}`;
    if (status === 429 || status >= 500) {
      log.warn({ operation, status, code }, 'yookassa unavailable');
      throw new YooKassaUnavailableError(operation, `${status} ${code}`, {
        status,
        code,
        retryAfterMs: parseRetryAfter(retryAfter),
      });
    }
    throw new YooKassaRejectedError(operation, {
      status,
      code,
      description: body.description,
      parameter: body.parameter,
      errorId: body.id,
    });
  }

  function buildReceipt(input: CreatePaymentInput, amount: string): Receipt | undefined {
    const defaults = options.receipt;
    if (!defaults || !input.receiptEmail) return undefined;
    return {
      customer: { email: input.receiptEmail },
      items: [
        {
          description: input.description.slice(0, 128),
          quantity: '1.00',
          amount: { value: amount, currency: input.currency },
          vat_code: defaults.vatCode,
          payment_mode: defaults.paymentMode ?? 'full_payment',
          payment_subject: defaults.paymentSubject ?? 'service',
        },
      ],
      ...(defaults.taxSystemCode !== undefined ? { tax_system_code: defaults.taxSystemCode } : {}),
    };
  }

  return {
    createPayment(input) {
      const amount = toAmountString(input.amount);
      const receipt = buildReceipt(input, amount);
      const body = {
        amount: { value: amount, currency: input.currency },
        capture: true,
        confirmation: { type: 'redirect', return_url: input.returnUrl ?? options.returnUrl },
        description: input.description,
        metadata: input.metadata,
        ...(receipt ? { receipt } : {}),
      };
      const post = { idempotenceKey: input.idempotenceKey, body };
      return call('createPayment', 'POST', '/payments', paymentSchema, post) as Promise<Payment>;
    },
    getPayment(id) {
      return call(`getPayment ${id}`, 'GET', `/payments/${segment(id)}`, paymentSchema) as Promise<Payment>;
    },
    cancelPayment(id, idempotenceKey) {
      const path = `/payments/${segment(id)}/cancel`;
      const post = { idempotenceKey, body: {} };
      return call(`cancelPayment ${id}`, 'POST', path, paymentSchema, post) as Promise<Payment>;
    },
    createRefund(input) {
      const body = {
        payment_id: input.paymentId,
        amount: { value: toAmountString(input.amount), currency: input.currency },
        ...(input.description !== undefined ? { description: input.description } : {}),
      };
      const post = { idempotenceKey: input.idempotenceKey, body };
      return call(`createRefund ${input.paymentId}`, 'POST', '/refunds', refundSchema, post) as Promise<Refund>;
    },
    getRefund(id) {
      return call(`getRefund ${id}`, 'GET', `/refunds/${segment(id)}`, refundSchema) as Promise<Refund>;
    },
  };
}

function assertIdempotenceKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 64) {
    throw new RangeError('Idempotence-Key must be 1..64 characters');
  }
}

function segment(id: string): string {
  if (!id) throw new RangeError('YooKassa object id is empty');
  return encodeURIComponent(id);
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
