import { createHash } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { PaymentNotice, PurchaseInput } from '../workflows/purchase-messages';
import { balanceOf, inTransaction, type Query } from './balance';
import { renewalTariffId } from './plan-change';

// Auto-renew bookkeeping (issue 13): the saved card of a consenting buyer, and one charge row per access per
// period. The lifetime workflow (workflows/subscription/auto-renew.ts) asks for a plan per attempt and runs
// each planned charge as an ordinary purchase (purchase-<payment id>), so every money rule of a purchase holds.

/** A card charge answers at once; an hour bounds the rare payment YooKassa keeps pending. */
const AUTO_RENEW_PAYMENT_TIMEOUT_MS = 3_600_000;

/** The same access, period and attempt always give the same payment id: a repeated plan charges nothing new. */
export function autoRenewPaymentId(
  subscriptionId: string,
  periodEndMs: number,
  attempt: number,
  provider: 'balance' | 'yookassa',
): string {
  const h = createHash('sha256')
    .update(`auto-renew:${subscriptionId}:${periodEndMs}:${attempt}:${provider}`)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The provider's Idempotence-Key of one card attempt: subscription id + period end (+ the attempt). ≤ 64 chars. */
export function autoRenewIdempotenceKey(charge: NonNullable<PurchaseInput['autoRenew']>): string {
  return `ar:${charge.subscriptionId}:${Date.parse(charge.periodEnd)}:${charge.attempt}`;
}

/**
 * A succeeded card payment whose buyer consented: YooKassa's method id is kept (by reference) and auto-renew
 * switched on. Called with the payment's success; a repeat changes nothing.
 */
export async function rememberSavedMethod(
  orm: MikroORM,
  paymentId: string,
  notice: PaymentNotice,
): Promise<void> {
  if (!notice.savedMethod) return;
  await orm.em.getConnection().execute(
    `insert into auto_renew_settings (user_id, enabled, payment_method_id, method_title, saved_by_payment_id)
     select user_id, true, ?, ?, id from payments where id = ? and save_payment_method
     on conflict (user_id) do update set enabled = true, payment_method_id = excluded.payment_method_id,
       method_title = excluded.method_title, saved_by_payment_id = excluded.saved_by_payment_id, updated_at = now()
     where auto_renew_settings.saved_by_payment_id is distinct from excluded.saved_by_payment_id`,
    [notice.savedMethod.id, notice.savedMethod.title, paymentId],
  );
}

export type AutoRenewPlan =
  /** Switched off, the access is gone, or its end moved (a manual renewal): nothing to charge this period.
   * `stars`: a Stars subscription renews it, Telegram charges by itself (one charge per period). */
  | { kind: 'skip'; why: 'off' | 'moved' | 'gone' | 'stars' }
  /** This period was renewed already (a repeated attempt after a restart). */
  | { kind: 'done' }
  /** Nothing to charge from: no saved card and a balance that does not cover the price. */
  | { kind: 'no_method' }
  /** Purchases to try in order (balance first, then the saved card); the first that extends wins. */
  | { kind: 'charge'; purchases: PurchaseInput[] };

export interface AutoRenewDeps {
  orm: MikroORM;
  logger: Logger;
  remindBeforeMs: number[];
  nodeWaitLimitMs?: number;
}

export function createAutoRenewActivities({ orm, logger, remindBeforeMs, nodeWaitLimitMs }: AutoRenewDeps) {
  return {
    /** One attempt for the period ending at `periodEnd`: what to charge, or why not. */
    async planAutoRenew({
      subscriptionId,
      periodEnd,
      attempt,
    }: {
      subscriptionId: string;
      periodEnd: string;
      attempt: number;
    }): Promise<AutoRenewPlan> {
      return inTransaction(orm, async (q) => {
        // The next period is for a scheduled downgrade's tariff if there is one (activities/plan-change.ts).
        const tariffId = await renewalTariffId(q, subscriptionId);
        const [s] = await q(
          `select s.id, s.status, s.expires_at, s.user_id, u.telegram_id, u.language, t.id as tariff_id, t.name,
                  t.price, t.currency, t.duration_seconds, t.star_price, t.location,
                  coalesce(a.enabled, false) as enabled, a.payment_method_id
             from subscriptions s join users u on u.id = s.user_id join tariffs t on t.id = ?
             left join auto_renew_settings a on a.user_id = s.user_id
            where s.id = ? for update of s`,
          [tariffId, subscriptionId],
        );
        if (s?.status !== 'active') return { kind: 'skip', why: 'gone' };
        const periodEndMs = Date.parse(periodEnd);
        if (new Date(s.expires_at).getTime() !== periodEndMs) return { kind: 'skip', why: 'moved' };
        if (!s.enabled) return { kind: 'skip', why: 'off' };
        // Telegram charges a Stars subscriber itself; its recurring charge extends the access (or it ends on time).
        const [stars] = await q(
          `select 1 from stars_subscriptions where user_id = ? and status = 'active' limit 1`,
          [s.user_id],
        );
        if (stars) return { kind: 'skip', why: 'stars' };
        await q(
          `insert into auto_renew_charges (subscription_id, period_end) values (?, ?)
           on conflict (subscription_id, period_end) do nothing`,
          [subscriptionId, periodEnd],
        );
        const [charge] = await q(
          `select status from auto_renew_charges where subscription_id = ? and period_end = ? for update`,
          [subscriptionId, periodEnd],
        );
        if (charge.status === 'succeeded') return { kind: 'done' };
        await q(
          `update auto_renew_charges set attempts = greatest(attempts, ?), status = 'charging', updated_at = now()
            where subscription_id = ? and period_end = ?`,
          [attempt + 1, subscriptionId, periodEnd],
        );
        const base = (provider: 'balance' | 'yookassa'): PurchaseInput => ({
          paymentId: autoRenewPaymentId(subscriptionId, periodEndMs, attempt, provider),
          userId: s.user_id,
          telegramId: String(s.telegram_id),
          language: s.language,
          provider,
          tariff: {
            id: Number(s.tariff_id),
            name: s.name,
            price: String(s.price),
            currency: s.currency,
            durationSeconds: Number(s.duration_seconds),
            starPrice: s.star_price === null ? null : Number(s.star_price),
            location: s.location ?? null,
          },
          paymentTimeoutMs: AUTO_RENEW_PAYMENT_TIMEOUT_MS,
          remindBeforeMs,
          nodeWaitLimitMs: nodeWaitLimitMs ?? 30 * 60_000,
          autoRenew: {
            subscriptionId,
            periodEnd,
            attempt,
            ...(provider === 'yookassa' ? { paymentMethodId: s.payment_method_id } : {}),
          },
        });
        const purchases: PurchaseInput[] = [];
        if (Number(await balanceOf(q, s.user_id)) >= Number(s.price)) purchases.push(base('balance'));
        if (s.payment_method_id) purchases.push(base('yookassa'));
        return purchases.length > 0 ? { kind: 'charge', purchases } : { kind: 'no_method' };
      });
    },

    /** The attempt's outcome, on the period's one charge row. */
    async finishAutoRenewAttempt({
      subscriptionId,
      periodEnd,
      paymentId,
      succeeded,
      error,
    }: {
      subscriptionId: string;
      periodEnd: string;
      paymentId: string | null;
      succeeded: boolean;
      error?: string;
    }): Promise<void> {
      await inTransaction(orm, (q: Query) =>
        q(
          `update auto_renew_charges set status = ?, payment_id = coalesce(?, payment_id), last_error = ?,
                  updated_at = now()
            where subscription_id = ? and period_end = ? and status <> 'succeeded'`,
          [succeeded ? 'succeeded' : 'failed', paymentId, error ?? null, subscriptionId, periodEnd],
        ),
      );
      logger.info({ subscriptionId, periodEnd, paymentId, succeeded, error }, 'auto-renew attempt finished');
    },
  };
}
