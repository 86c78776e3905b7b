import { z } from 'zod';
import { AMOUNT_PATTERN, toAmountString } from './amount';
import { createTransport } from './transport';
import { buildReceipt, type ReceiptSettings } from './receipt';
import type { Payment, Refund } from './types';

export { toAmountString } from './amount';
export { isRetryable, YooKassaError, YooKassaRejectedError, YooKassaUnavailableError } from './errors';
export type { Amount, CancellationDetails, Payment, PaymentStatus, Refund, RefundStatus } from './types';

/** 54-FZ receipt settings (see receipt.ts). Kept under its old name for callers that import it. */
export type ReceiptDefaults = ReceiptSettings;

export interface YooKassaClientOptions {
  /** e.g. https://api.yookassa.ru/v3 */
  apiUrl: string;
  shopId: string;
  secretKey: string;
  /** Where YooKassa sends the buyer after the checkout page, unless a payment overrides it. */
  returnUrl: string;
  timeoutMs?: number;
  /** When set (YOOKASSA_RECEIPT=on), every payment and refund carries a 54-FZ receipt. */
  receipt?: ReceiptSettings;
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
  /** The buyer's own email for the receipt; without it the shop's configured customer is used. */
  receiptEmail?: string;
  /** The buyer agreed to auto-renew: YooKassa keeps the card and answers its id in payment_method. */
  savePaymentMethod?: boolean;
  /** A charge of a saved method (auto-renew): no confirmation, the bank answers at once. */
  paymentMethodId?: string;
}

export interface CreateRefundInput {
  idempotenceKey: string;
  paymentId: string;
  amount: string;
  currency: string;
  description?: string;
  /** The receipt line of a refund names the service refunded (default "VPN access"). */
  receiptItem?: string;
}

export interface YooKassaClient {
  createPayment(input: CreatePaymentInput): Promise<Payment>;
  getPayment(id: string): Promise<Payment>;
  cancelPayment(id: string, idempotenceKey: string): Promise<Payment>;
  createRefund(input: CreateRefundInput): Promise<Refund>;
  getRefund(id: string): Promise<Refund>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

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
export function createYooKassaClient(options: YooKassaClientOptions): YooKassaClient {
  const call = createTransport({
    apiUrl: options.apiUrl,
    shopId: options.shopId,
    secretKey: options.secretKey,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });

  return {
    createPayment(input) {
      const amount = toAmountString(input.amount);
      const customer = input.receiptEmail ? { email: input.receiptEmail } : undefined;
      const receipt = buildReceipt(
        options.receipt,
        { description: input.description, amount, currency: input.currency },
        customer ?? options.receipt?.customer,
      );
      const body = {
        amount: { value: amount, currency: input.currency },
        capture: true,
        // A saved method is charged without the buyer: no confirmation page then.
        ...(input.paymentMethodId
          ? { payment_method_id: input.paymentMethodId }
          : { confirmation: { type: 'redirect', return_url: input.returnUrl ?? options.returnUrl } }),
        ...(input.savePaymentMethod && !input.paymentMethodId ? { save_payment_method: true } : {}),
        description: input.description,
        metadata: input.metadata,
        ...(receipt ? { receipt } : {}),
      };
      const post = { idempotenceKey: input.idempotenceKey, body };
      return call<Payment>('createPayment', 'POST', '/payments', paymentSchema, post);
    },
    getPayment(id) {
      return call<Payment>(`getPayment ${id}`, 'GET', `/payments/${segment(id)}`, paymentSchema);
    },
    cancelPayment(id, idempotenceKey) {
      const path = `/payments/${segment(id)}/cancel`;
      const post = { idempotenceKey, body: {} };
      return call<Payment>(`cancelPayment ${id}`, 'POST', path, paymentSchema, post);
    },
    createRefund(input) {
      const amount = toAmountString(input.amount);
      // A refund is a fiscal event too: its receipt holds the refunded amount ("возврат прихода").
      const receipt = buildReceipt(options.receipt, {
        description: input.receiptItem ?? 'VPN access',
        amount,
        currency: input.currency,
      });
      const body = {
        payment_id: input.paymentId,
        amount: { value: amount, currency: input.currency },
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(receipt ? { receipt } : {}),
      };
      const post = { idempotenceKey: input.idempotenceKey, body };
      return call<Refund>(`createRefund ${input.paymentId}`, 'POST', '/refunds', refundSchema, post);
    },
    getRefund(id) {
      return call<Refund>(`getRefund ${id}`, 'GET', `/refunds/${segment(id)}`, refundSchema);
    },
  };
}

function segment(id: string): string {
  if (!id) throw new RangeError('YooKassa object id is empty');
  return encodeURIComponent(id);
}
