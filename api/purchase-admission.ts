import { createHash, randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Response } from 'express';
import type { PaymentPurpose, Provider } from '../workflows/purchase-messages';
import type { Row } from './db';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';
import type { PromoPrice } from './promo/pricing';
import { refuseBannedUser } from './user-ban';
import { type PaymentCreated, type PurchaseDeps, startPurchase } from './purchases';

/** How long a recorded request without its payment row yet counts as "being created" (the API's own wait). */
const IN_FLIGHT_SECONDS = 20;
/** pg_advisory_xact_lock(int, int) namespace for "purchases of one user" (ASCII "pu"). */
const LOCK_NAMESPACE = 0x7075;

export interface AdmissionRequest {
  user: Row;
  tariff: Row;
  provider: Provider;
  /** The client's Idempotency-Key, if it sent one. */
  idempotencyKey?: string;
  /** Hash of the request body the key was first used with. */
  requestHash?: string;
  /** Answer an open payment for the same user, tariff and provider instead of starting another one. */
  reuseOpen: boolean;
  /** What the payment buys (default `subscription`; an open payment is reused only for the same purpose) and,
   * for top-ups, its amount (passed to startPurchase). */
  purpose?: PaymentPurpose;
  amount?: string;
  /** Runs only before a new workflow starts (not for a replay or a reused payment), e.g. the provider gate. */
  beforeStart?: () => Promise<void>;
  /** A promo code's price for this payment id (api/promo/pricing.ts); reserved before the workflow starts. */
  priceFor?: (paymentId: string) => Promise<PromoPrice>;
  /** Auto-renew consent (card payments): YooKassa keeps the card (passed to startPurchase). */
  savePaymentMethod?: boolean;
}

export type Admission =
  /** The same key and body were answered before: the same answer again. */
  | { kind: 'replay'; body: PaymentCreated }
  /** Start (or attach to) the purchase of this payment id; `requestId` is our purchase_requests row. */
  | { kind: 'new' | 'existing'; paymentId: string; requestId: string };

export type AdmissionDeps = Pick<ApiDeps, 'orm' | 'config'>;

/** Canonical hash of a validated body: the same fields in another order are the same request. */
export function requestHash(body: Record<string, unknown>): string {
  const sorted = Object.fromEntries(
    Object.entries(body)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

function inUserLock<T>(orm: MikroORM, telegramId: string, fn: (q: Query) => Promise<T>): Promise<T> {
  return orm.em.fork().transactional(async (em) => {
    const q: Query = (sql, params = []) =>
      em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
    // One decision per user at a time: two taps at once cannot both pass the limits or both start a purchase.
    await q(`select pg_advisory_xact_lock(?, hashtext(?))`, [LOCK_NAMESPACE, telegramId]);
    return fn(q);
  });
}

/**
 * Decides, under a per-user lock, what a create request gets: the earlier answer for a repeated key, an open
 * payment to reuse, a 429 when a limit is reached, or a new payment id, recorded before its workflow starts
 * so that a concurrent duplicate finds the same one.
 */
export function admitPurchase(deps: AdmissionDeps, r: AdmissionRequest): Promise<Admission> {
  const telegramId = String(r.user.telegram_id);
  refuseBannedUser(r.user);
  return inUserLock(deps.orm, telegramId, async (q) => {
    if (r.idempotencyKey) {
      const [earlier] = await q(
        `select id, payment_id, request_hash, response from purchase_requests where telegram_id = ? and idempotency_key = ?`,
        [telegramId, r.idempotencyKey],
      );
      if (earlier) {
        if (earlier.request_hash !== r.requestHash) {
          throw new HttpError(
            409,
            'idempotency_key_reused',
            'this Idempotency-Key was used with another request body',
          );
        }
        if (earlier.response) return { kind: 'replay', body: earlier.response as PaymentCreated };
        return { kind: 'existing', paymentId: earlier.payment_id, requestId: String(earlier.id) };
      }
    }
    const record = async (paymentId: string) => {
      const [row] = await q(
        `insert into purchase_requests (telegram_id, payment_id, tariff_id, provider, idempotency_key, request_hash)
         values (?, ?, ?, ?, ?, ?) returning id`,
        [telegramId, paymentId, r.tariff.id, r.provider, r.idempotencyKey ?? null, r.requestHash ?? null],
      );
      return String(row.id);
    };

    if (r.reuseOpen) {
      const open = await openPaymentFor(q, r, telegramId);
      if (open) return { kind: 'existing', paymentId: open, requestId: await record(open) };
    }
    await enforceLimits(q, deps.config, r.user.id, telegramId);
    const paymentId = randomUUID();
    return { kind: 'new', paymentId, requestId: await record(paymentId) };
  });
}

/** A pending, unexpired payment (or one being created right now) for the same user, tariff and provider. */
async function openPaymentFor(
  q: Query,
  r: AdmissionRequest,
  telegramId: string,
): Promise<string | undefined> {
  const [row] = await q(
    `select payment_id from (
       select p.id as payment_id, p.created_at from payments p
        where p.user_id = ? and p.tariff_id = ? and p.provider = ? and p.status = 'pending' and p.expires_at > now()
          and p.purpose = ?
       union all
       select r.payment_id, r.created_at from purchase_requests r
        where r.telegram_id = ? and r.tariff_id = ? and r.provider = ?
          and r.created_at > now() - make_interval(secs => ?)
          and not exists (select 1 from payments p where p.id = r.payment_id)
     ) o order by created_at desc limit 1`,
    [
      r.user.id,
      r.tariff.id,
      r.provider,
      r.purpose ?? 'subscription',
      telegramId,
      r.tariff.id,
      r.provider,
      IN_FLIGHT_SECONDS,
    ],
  );
  return row?.payment_id;
}

/** PURCHASE_OPEN_LIMIT open payments and PURCHASE_HOURLY_LIMIT new ones an hour, per user → 429 purchase_limit. */
async function enforceLimits(
  q: Query,
  config: AdmissionDeps['config'],
  userId: string,
  telegramId: string,
): Promise<void> {
  const [row] = await q(
    `with in_flight as (
       select distinct r.payment_id, r.created_at from purchase_requests r
        where r.telegram_id = ? and r.created_at > now() - make_interval(secs => ?)
          and not exists (select 1 from payments p where p.id = r.payment_id)
     ), open as (
       select expires_at as until from payments
        where user_id = ? and status = 'pending' and expires_at > now()
       union all
       select created_at + make_interval(secs => ?) from in_flight
     ), recent as (
       select created_at from payments where user_id = ? and created_at > now() - interval '1 hour'
       union all
       select created_at from in_flight
     )
     select (select count(*)::int from open) as open_count,
            (select ceil(extract(epoch from min(until) - now()))::int from open) as open_wait,
            (select count(*)::int from recent) as hourly_count,
            (select ceil(extract(epoch from min(created_at) + interval '1 hour' - now()))::int from recent) as hourly_wait`,
    [telegramId, IN_FLIGHT_SECONDS, userId, IN_FLIGHT_SECONDS, userId],
  );
  if (row.open_count >= config.PURCHASE_OPEN_LIMIT) {
    throw new PurchaseLimitError(
      `at most ${config.PURCHASE_OPEN_LIMIT} open payments at a time: pay or wait for one to expire`,
      row.open_wait,
    );
  }
  if (row.hourly_count >= config.PURCHASE_HOURLY_LIMIT) {
    throw new PurchaseLimitError(
      `at most ${config.PURCHASE_HOURLY_LIMIT} new payments an hour`,
      row.hourly_wait,
    );
  }
}

/** 429 purchase_limit; the route sets `Retry-After` from `retryAfterSeconds`. */
export class PurchaseLimitError extends HttpError {
  readonly retryAfterSeconds: number;
  constructor(message: string, waitSeconds: number | null) {
    super(429, 'purchase_limit', message);
    this.retryAfterSeconds = Math.max(1, Number(waitSeconds) || 1);
  }
}

export function setRetryAfter(res: Response, err: unknown): void {
  if (err instanceof PurchaseLimitError) res.set('retry-after', String(err.retryAfterSeconds));
}

/** Remembers the answer, so the same key gets it again even once the payment is no longer open. */
export async function rememberAnswer(orm: MikroORM, requestId: string, body: PaymentCreated): Promise<void> {
  await orm.em
    .getConnection()
    .execute(`update purchase_requests set response = ?::jsonb where id = ?`, [
      JSON.stringify(body),
      requestId,
    ]);
}

/** A start that failed for good frees its record: the key may be retried, and it does not count as open. */
export async function forgetRequest(orm: MikroORM, requestId: string): Promise<void> {
  await orm.em.getConnection().execute(`delete from purchase_requests where id = ?`, [requestId]);
}

/** Admission, then the workflow; the answer is remembered for the key, a definitive failure frees the record. */
export async function admitAndStart(
  deps: AdmissionDeps & PurchaseDeps,
  r: AdmissionRequest,
): Promise<{ body: PaymentCreated; reused: boolean }> {
  const admission = await admitPurchase(deps, r);
  if (admission.kind === 'replay') return { body: admission.body, reused: true };
  let promo: PromoPrice | undefined;
  try {
    if (admission.kind === 'new') await r.beforeStart?.();
    promo = await r.priceFor?.(admission.paymentId);
    const started = await startPurchase(deps, {
      user: r.user,
      tariff: promo?.tariff ?? r.tariff,
      provider: promo?.provider ?? r.provider,
      paymentId: admission.paymentId,
      // Also for a new id: a concurrent duplicate (same key) may have started its workflow a moment earlier.
      attach: true,
      purpose: r.purpose,
      amount: r.amount,
      ...(r.savePaymentMethod ? { savePaymentMethod: true } : {}),
    });
    const body = promo ? await promo.finish(started) : started;
    if (r.idempotencyKey) await rememberAnswer(deps.orm, admission.requestId, body);
    return { body, reused: admission.kind === 'existing' };
  } catch (err) {
    // Only a definitive answer frees the record. A timeout or an unknown error (the server or PostgreSQL
    // restarting, a dropped connection) may come after the workflow started: the record keeps the payment id,
    // so a retry (with the key, or the open-payment reuse) attaches to that purchase instead of a second one.
    if (startMayHaveHappened(err)) throw err;
    await forgetRequest(deps.orm, admission.requestId).catch(() => undefined);
    await promo?.release().catch(() => undefined);
    throw err;
  }
}

function startMayHaveHappened(err: unknown): boolean {
  return !(err instanceof HttpError) || err.code === 'purchase_start_timeout';
}
