import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { Failure } from '../workflows/failures';
import { sameAmount } from '../infra/yookassa/amount';
import {
  type PaymentLink,
  type PaymentNotice,
  type PurchaseInput,
  purchaseWorkflowId,
} from '../workflows/purchase-messages';
import { type Query, transactionQuery } from '../infra/db/query';
import type { PaymentRow } from '../infra/db/rows';

/** Re-exported for the modules that built their queries on this one. */
export type { Query };

/** Why a ledger entry exists (balance_entries.reason). */
export type BalanceReason = 'topup' | 'purchase' | 'refund' | 'cancel_refund' | 'admin_refund' | 'adjustment';

export interface LedgerEntry {
  userId: string;
  /** Signed decimal string: "+" credits, "-" debits. */
  amount: string;
  currency?: string;
  reason: BalanceReason;
  /** Unique per reason: the payment id for a top-up or a purchase, a refund id for a refund. */
  reference: string;
  paymentId?: string | null;
}

const queryIn = transactionQuery;

/** True when PostgreSQL refused the entry because the balance would go below zero. */
export function isOverdraft(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return (
    e?.code === '23514' &&
    (e.constraint === 'balances_not_negative' || /balances_not_negative/.test(e.message ?? ''))
  );
}

/**
 * Appends one entry (the trigger moves the balance in the same statement). False when this reason +
 * reference was booked before: a retried step never books twice. Throws on an overdraft.
 */
export async function appendEntry(q: Query, e: LedgerEntry): Promise<boolean> {
  const rows = await q(
    `insert into balance_entries (user_id, amount, currency, reason, reference, payment_id)
     values (?, ?, ?, ?, ?, ?) on conflict (reason, reference) do nothing returning id`,
    [e.userId, e.amount, e.currency ?? 'RUB', e.reason, e.reference, e.paymentId ?? null],
  );
  return rows.length > 0;
}

/** Runs fn in one transaction of its own. */
export function inTransaction<T>(orm: MikroORM, fn: (q: Query) => Promise<T>): Promise<T> {
  return orm.em.fork().transactional((em) => fn(queryIn(em)));
}

export async function balanceOf(q: Query, userId: string): Promise<string> {
  const [row] = await q(`select balance from balances where user_id = ?`, [userId]);
  return row ? String(row.balance) : '0.00';
}

export interface BalanceDeps {
  orm: MikroORM;
  logger: Logger;
}

/** The user's balance as the purchase workflow uses it: credit a paid top-up, debit a purchase, refund one. */
export function createBalanceActivities({ orm, logger }: BalanceDeps) {
  return {
    /**
     * A top-up the provider confirmed: the payment is marked succeeded and its amount credited, in one
     * transaction and once per payment (a retry, a second webhook or a second poll changes nothing).
     */
    async creditTopUp({
      paymentId,
      notice,
    }: {
      paymentId: string;
      notice: PaymentNotice;
    }): Promise<{ balance: string; amount: string; currency: string }> {
      return inTransaction(orm, async (q) => {
        const [p] = await q(
          `select user_id, amount, currency, purpose, status, credit_amount, credit_currency
             from payments where id = ? for update`,
          [paymentId],
        );
        if (p?.purpose !== 'topup')
          throw ApplicationFailure.nonRetryable(
            `payment ${paymentId} is not a top-up`,
            Failure.PaymentNotFound,
          );
        if (!sameAmount(p.amount, notice.amount) || p.currency !== notice.currency) {
          logger.error(
            { paymentId, expected: p, got: notice },
            'top-up paid amount differs from the amount asked',
          );
          throw ApplicationFailure.nonRetryable(
            `paid ${notice.amount} ${notice.currency}, expected ${p.amount} ${p.currency}`,
            Failure.AmountMismatch,
          );
        }
        // A Stars top-up keeps its charge id: a refund needs it.
        await q(
          `update payments set status = 'succeeded', paid_at = coalesce(paid_at, now()),
                  telegram_payment_charge_id = coalesce(?, telegram_payment_charge_id)
            where id = ? and status in ('pending', 'expired', 'canceled')`,
          [notice.telegramChargeId ?? null, paymentId],
        );
        // A Stars top-up row without its credit was written by an older worker: its Stars are no roubles.
        if (p.credit_amount == null && p.currency === 'XTR') {
          logger.error({ paymentId }, 'Stars top-up without a credit amount: not credited');
          throw ApplicationFailure.nonRetryable(
            `top-up ${paymentId} was paid in Stars but records no credit in roubles`,
            Failure.AmountMismatch,
          );
        }
        // What was asked, in the balance currency (a Stars top-up is paid in Stars); rows from before
        // credit_amount existed are card top-ups, whose credit is their amount.
        const credit = {
          amount: String(p.credit_amount ?? p.amount),
          currency: p.credit_currency ?? p.currency,
        };
        const booked = await appendEntry(q, {
          userId: p.user_id,
          amount: credit.amount,
          currency: credit.currency,
          reason: 'topup',
          reference: paymentId,
          paymentId,
        });
        if (booked)
          logger.info({ paymentId, paid: p.amount, paidIn: p.currency, ...credit }, 'balance topped up');
        return { balance: await balanceOf(q, p.user_id), ...credit };
      });
    },
  };
}

/**
 * A purchase paid from the balance: the payment row (already succeeded) and its debit in one transaction, so
 * concurrent purchases can never spend more than the balance holds (the check on balances refuses the
 * overdraft and the whole transaction rolls back, payment row included). A retry finds the row and books nothing.
 */
export async function payFromBalance(
  orm: MikroORM,
  logger: Logger,
  input: PurchaseInput,
): Promise<PaymentLink> {
  const amount = input.tariff.price;
  const currency = input.tariff.currency;
  const row = await inTransaction(orm, async (q) => {
    const inserted = await q(
      `insert into payments (id, user_id, tariff_id, provider, provider_payment_id, status, amount, currency, purpose,
          list_price, paid_at, expires_at, metadata)
       values (?, ?, ?, 'balance', ?, 'succeeded', ?, ?, ?, ?, now(), now(), ?) on conflict (id) do nothing returning id`,
      [
        input.paymentId,
        input.userId,
        input.tariff.id,
        input.paymentId,
        amount,
        currency,
        input.purpose ?? 'subscription',
        input.tariff.price,
        JSON.stringify({ workflow_id: purchaseWorkflowId(input.paymentId), telegram_id: input.telegramId }),
      ],
    );
    if (inserted.length > 0) {
      try {
        await appendEntry(q, {
          userId: input.userId,
          amount: `-${amount}`,
          currency,
          reason: 'purchase',
          reference: input.paymentId,
          paymentId: input.paymentId,
        });
      } catch (err) {
        if (!isOverdraft(err)) throw err;
        throw ApplicationFailure.nonRetryable(
          `the balance does not cover ${amount} ${currency}`,
          Failure.InsufficientBalance,
        );
      }
      logger.info({ paymentId: input.paymentId, amount }, 'purchase paid from the balance');
    }
    const [p] = await q<PaymentRow>(`select * from payments where id = ?`, [input.paymentId]);
    return p;
  });
  return {
    paymentId: input.paymentId,
    providerPaymentId: input.paymentId,
    confirmationUrl: null,
    amount,
    currency,
    createdAt: new Date(row.created_at).toISOString(),
    // Paid on the spot: the insert sets expires_at = now(); a row recorded beforehand may lack it.
    expiresAt: new Date(row.expires_at ?? row.created_at).toISOString(),
    status: 'succeeded',
  };
}

/** Returns a balance payment to the balance (the purchase could not provision it). Once per payment. */
export async function refundToBalance(
  q: Query,
  p: Pick<PaymentRow, 'id' | 'user_id' | 'amount' | 'currency'>,
  reason: BalanceReason = 'refund',
  reference = `refund-${p.id}`,
): Promise<string> {
  await appendEntry(q, {
    userId: p.user_id,
    amount: String(p.amount),
    currency: p.currency,
    reason,
    reference,
    paymentId: p.id,
  });
  return reference;
}
