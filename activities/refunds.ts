import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { Failure } from '../workflows/failures';
import { TelegramRejectedError } from '../infra/telegram/errors';
import type { TelegramSender } from '../infra/telegram/sender';
import type { YooKassaClient } from '../infra/yookassa/client';
import { appendEntry, inTransaction, type Query } from './balance';
import {
  type PaidPeriod,
  type PlannedRefund,
  planCancelRefunds,
  type RefundPolicy,
  totalOf,
} from './refund-plan';

export interface CancelPlan {
  /** False when the access was not active (already over or canceled before this request). */
  canceled: boolean;
  refunds: Array<PlannedRefund & { refundId: string }>;
  refundedAmount: string;
}

/** The payments that paid for this access, newest first, as the refund plan reads them. */
export async function paidPeriods(q: Query, subscriptionId: string, windowMs: number): Promise<PaidPeriod[]> {
  const rows = await q(
    `select p.id, p.provider, p.amount, p.refunded_amount, p.currency, t.duration_seconds,
            (? > 0 and p.paid_at >= now() - make_interval(secs => ?)) as in_window
       from subscription_events e join payments p on p.id = e.payment_id join tariffs t on t.id = p.tariff_id
      where e.subscription_id = ? and e.type in ('activated', 'extended') and p.status = 'succeeded'
      order by e.id desc`,
    [windowMs, windowMs / 1000, subscriptionId],
  );
  return rows.map((r) => ({
    paymentId: r.id,
    provider: r.provider,
    amount: String(r.amount),
    refundedAmount: String(r.refunded_amount),
    currency: r.currency,
    durationSeconds: Number(r.duration_seconds),
    inWindow: Boolean(r.in_window),
  }));
}

/** Records one refund and raises the payment's refunded_amount (the check refuses more than was paid). */
export async function reserveRefund(
  q: Query,
  r: PlannedRefund & { kind: 'cancel' | 'admin'; reason: string /** default: a random one */; id?: string },
): Promise<string> {
  const refundId = r.id ?? randomUUID();
  await q(
    `insert into payment_refunds (id, payment_id, amount, currency, destination, kind, reason) values (?, ?, ?, ?, ?, ?, ?)`,
    [refundId, r.paymentId, r.amount, r.currency, r.destination, r.kind, r.reason],
  );
  await q(`update payments set refunded_amount = refunded_amount + ? where id = ?`, [r.amount, r.paymentId]);
  return refundId;
}

export interface RefundDeps {
  orm: MikroORM;
  yookassa: YooKassaClient | null;
  telegram: TelegramSender | null;
  logger: Logger;
}

const ALREADY_REFUNDED = /CHARGE_ALREADY_REFUNDED/;

/** Cancel with refund, and paying refunds out (to the provider that took the money, or to the balance). */
export function createRefundActivities({ orm, yookassa, telegram, logger }: RefundDeps) {
  return {
    /**
     * Ends the access now and books its refunds, in one transaction, once: a retry (or a second cancel)
     * finds the `canceled` event and returns the same plan.
     */
    async prepareCancel({
      subscriptionId,
      refundWindowMs,
      policy,
    }: {
      subscriptionId: string;
      refundWindowMs: number;
      policy: RefundPolicy;
    }): Promise<CancelPlan> {
      return inTransaction(orm, async (q) => {
        const [sub] = await q(
          `select status, extract(epoch from expires_at - now())::float as remaining from subscriptions where id = ? for update`,
          [subscriptionId],
        );
        const [done] = await q(
          `select data from subscription_events where subscription_id = ? and type = 'canceled' order by id limit 1`,
          [subscriptionId],
        );
        if (done) return { ...(done.data as CancelPlan), canceled: true };
        if (sub?.status !== 'active') return { canceled: false, refunds: [], refundedAmount: '0.00' };
        const planned = planCancelRefunds(
          await paidPeriods(q, subscriptionId, refundWindowMs),
          Number(sub.remaining),
          policy,
        );
        const refunds: CancelPlan['refunds'] = [];
        for (const r of planned)
          refunds.push({
            ...r,
            refundId: await reserveRefund(q, { ...r, kind: 'cancel', reason: 'canceled by the user' }),
          });
        await q(`update subscriptions set expires_at = now(), updated_at = now() where id = ?`, [
          subscriptionId,
        ]);
        const plan: CancelPlan = { canceled: true, refunds, refundedAmount: totalOf(refunds) };
        await q(`insert into subscription_events (subscription_id, type, data) values (?, 'canceled', ?)`, [
          subscriptionId,
          JSON.stringify(plan),
        ]);
        logger.warn({ subscriptionId, refunded: plan.refundedAmount }, 'access canceled by the user');
        return plan;
      });
    },

    /** Pays one booked refund out. Idempotent: the provider gets the refund id as its idempotence key. */
    async executeRefund({ refundId }: { refundId: string }): Promise<void> {
      const [r] = await orm.em.getConnection().execute(
        `select r.*, p.provider, p.provider_payment_id, p.telegram_payment_charge_id, p.user_id, u.telegram_id
           from payment_refunds r join payments p on p.id = r.payment_id join users u on u.id = p.user_id where r.id = ?`,
        [refundId],
      );
      if (!r) throw ApplicationFailure.nonRetryable(`refund ${refundId} not found`, Failure.RefundNotFound);
      if (r.status === 'succeeded') return;
      let providerRefundId: string | null = null;
      if (r.destination === 'provider' && r.provider === 'yookassa') {
        if (!yookassa)
          throw ApplicationFailure.retryable(
            'YooKassa is not configured (YOOKASSA_SHOP_ID)',
            Failure.RefundImpossible,
          );
        const refund = await yookassa.createRefund({
          idempotenceKey: `refund-${refundId}`,
          paymentId: r.provider_payment_id,
          amount: String(r.amount),
          currency: r.currency,
          description: r.kind === 'cancel' ? 'VPN subscription canceled' : 'VPN: refund',
        });
        providerRefundId = refund.id;
      } else if (r.destination === 'provider' && r.provider === 'stars') {
        if (!telegram)
          throw ApplicationFailure.retryable(
            'BOT_TOKEN is not set: cannot refund Stars',
            Failure.RefundImpossible,
          );
        try {
          await telegram.refundStarPayment(Number(r.telegram_id), r.telegram_payment_charge_id);
        } catch (err) {
          if (!(err instanceof TelegramRejectedError && ALREADY_REFUNDED.test(err.description))) throw err;
        }
        providerRefundId = r.telegram_payment_charge_id;
      }
      await inTransaction(orm, async (q) => {
        if (r.destination === 'balance') {
          await appendEntry(q, {
            userId: r.user_id,
            amount: String(r.amount),
            currency: r.currency,
            reason: r.kind === 'cancel' ? 'cancel_refund' : 'admin_refund',
            reference: refundId,
            paymentId: r.payment_id,
          });
        }
        await q(
          `update payment_refunds set status = 'succeeded', provider_refund_id = ?, completed_at = now() where id = ?`,
          [providerRefundId, refundId],
        );
        // Fully returned: the payment reads as refunded, like a refund of a purchase that could not provision.
        await q(
          `update payments set status = 'refunded', refunded_at = now(), refund_id = coalesce(refund_id, ?)
            where id = ? and refunded_amount = amount and status = 'succeeded'`,
          [providerRefundId ?? refundId, r.payment_id],
        );
        await q(`insert into subscription_events (payment_id, type, data) values (?, 'refunded', ?)`, [
          r.payment_id,
          JSON.stringify({ refund_id: refundId, amount: r.amount, to: r.destination, kind: r.kind }),
        ]);
      });
      logger.warn(
        { refundId, paymentId: r.payment_id, amount: r.amount, to: r.destination },
        'refund paid out',
      );
    },
  };
}
