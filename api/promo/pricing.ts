import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { fromMinorUnits, toAmountString, toMinorUnits } from '../../infra/yookassa/amount';
import { type Provider, paymentNoticeSignal, purchaseWorkflowId } from '../../workflows/purchase-messages';
import type { Row } from '../db';
import { HttpError } from '../errors';
import type { PaymentCreated } from '../purchases';
import { lockUsableCode, type Query } from './codes';

/** The least each provider takes: below it a discounted price is refused (a 100 % code is free instead). */
const MINIMUM_MINOR: Record<'yookassa' | 'stars', bigint> = { yookassa: 100n, stars: 100n };

export interface PromoPrice {
  /** The tariff row with the discounted price (card) and star_price (Stars): what the workflow asks for. */
  tariff: Row;
  /** `free` when the code covers the whole price: no provider is asked, the purchase is granted at once. */
  provider: Provider;
  /** Adds list_price/discount to the 201 body; a free purchase is marked paid (signalled) and says so. */
  finish(body: PaymentCreated): Promise<PaymentCreated>;
  /** The start failed for good: the reservation is dropped so it does not hold a use. */
  release(): Promise<void>;
}

export interface PromoPriceArgs {
  orm: MikroORM;
  temporal: Client;
  user: Row;
  tariff: Row;
  provider: 'yookassa' | 'stars';
  code: string;
  paymentId: string;
}

/**
 * Applies a price code to one payment: reserves one use of the code for this payment id (under the code's row
 * lock) and answers the discounted tariff. Idempotent per payment id, so a retried create prices it the same.
 */
export async function priceWithPromo(a: PromoPriceArgs): Promise<PromoPrice> {
  const stars = a.provider === 'stars';
  const redemption = await a.orm.em.fork().transactional(async (em) => {
    const q: Query = (sql, params = []) =>
      em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
    const [earlier] = await q(`select * from promo_redemptions where payment_id = ?`, [a.paymentId]);
    if (earlier) return earlier;
    const code = await lockUsableCode(q, {
      code: a.code,
      userId: a.user.id,
      tariffId: Number(a.tariff.id),
      kinds: ['percent', 'amount'],
    });
    const price = discounted(code, a.tariff, stars);
    if (price.amountMinor > 0n && price.amountMinor < MINIMUM_MINOR[a.provider]) {
      throw new HttpError(
        422,
        'amount_below_minimum',
        `with this code the price is ${fromMinorUnits(price.amountMinor)} ${price.currency}, below the ${
          stars ? 'Telegram Stars' : 'card payment'
        } minimum of ${fromMinorUnits(MINIMUM_MINOR[a.provider])}`,
        'promo_code',
      );
    }
    const [row] = await q(
      `insert into promo_redemptions (code, user_id, payment_id, list_price, discount, amount, currency)
       values (?, ?, ?, ?, ?, ?, ?) returning *`,
      [
        code.code,
        a.user.id,
        a.paymentId,
        fromMinorUnits(price.listMinor),
        fromMinorUnits(price.listMinor - price.amountMinor),
        fromMinorUnits(price.amountMinor),
        price.currency,
      ],
    );
    return row;
  });
  const amount = String(redemption.amount);
  const free = minor(amount) === 0n;
  const tariff = stars
    ? { ...a.tariff, star_price: Number(minor(amount) / 100n) }
    : { ...a.tariff, price: amount };
  const sql = (query: string, params: unknown[]) => a.orm.em.getConnection().execute(query, params);
  return {
    tariff: free ? { ...a.tariff, price: '0.00', currency: redemption.currency } : tariff,
    provider: free ? 'free' : a.provider,
    async finish(body) {
      await sql(`update payments set list_price = ? where id = ? and list_price is null`, [
        redemption.list_price,
        a.paymentId,
      ]);
      const extra = { list_price: String(redemption.list_price), discount: String(redemption.discount) };
      if (!free) return { ...body, ...extra };
      // Nothing to pay: the purchase takes our word (no outside provider) and grants as for any payment.
      await a.temporal.workflow.getHandle(purchaseWorkflowId(a.paymentId)).signal(paymentNoticeSignal, {
        providerPaymentId: a.paymentId,
        status: 'succeeded',
        amount: '0.00',
        currency: body.currency,
      });
      return { ...body, ...extra, payment_status: 'succeeded', confirmation_url: null };
    },
    async release() {
      await sql(`delete from promo_redemptions where payment_id = ?`, [a.paymentId]);
    },
  };
}

/** List price and discounted amount in minor units (kopecks; Stars ×100), never below zero. */
function discounted(code: Row, tariff: Row, stars: boolean) {
  const listMinor = stars ? BigInt(tariff.star_price) * 100n : minor(tariff.price);
  let amountMinor: bigint;
  if (code.kind === 'percent') {
    const keepBasisPoints = 10_000n - minor(code.value); // 20.00 % → 2000 basis points off
    amountMinor = (listMinor * keepBasisPoints) / 10_000n;
  } else {
    let offMinor = minor(code.value);
    // A fixed amount is in the tariff's currency: for Stars it takes the same share of the price.
    if (stars) offMinor = (offMinor * listMinor) / minor(tariff.price);
    amountMinor = listMinor > offMinor ? listMinor - offMinor : 0n;
  }
  // Stars are whole: round up to the next star (the discount never exceeds what the code says).
  if (stars) amountMinor = ((amountMinor + 99n) / 100n) * 100n;
  return { listMinor, amountMinor, currency: stars ? 'XTR' : String(tariff.currency) };
}

const minor = (value: unknown) => toMinorUnits(toAmountString(String(value)));
