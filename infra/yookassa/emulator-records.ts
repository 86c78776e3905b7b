/**
 * How the emulator stores a payment, and how that record looks on the wire (YooKassa's Payment
 * object: which fields appear in which status).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { fromMinorUnits } from './amount';
import type { Amount, CancellationDetails, Payment, PaymentMethod, PaymentStatus } from './types';

export interface PaymentRecord {
  id: string;
  status: PaymentStatus;
  minor: bigint;
  amount: Amount;
  description?: string;
  metadata?: Record<string, string>;
  capture: boolean;
  returnUrl: string;
  hasReceipt: boolean;
  createdAt: number;
  paidAt?: number;
  capturedAt?: number;
  cancellation?: CancellationDetails;
  refundedMinor: bigint;
  method?: PaymentMethod;
  /** The buyer agreed (save_payment_method) to keep the card for later charges without confirmation. */
  saveMethod?: boolean;
}

export interface ViewContext {
  shopId: string;
  gatewayId: string;
  checkoutUrl: (paymentId: string) => string;
  captureTtlMs: number;
}

// Who YooKassa names as the canceling party for a given reason; the rest come from the bank side.
const PARTY_BY_REASON: Record<string, CancellationDetails['party']> = {
  canceled_by_merchant: 'merchant',
  expired_on_confirmation: 'yoo_money',
  expired_on_capture: 'yoo_money',
  fraud_suspected: 'yoo_money',
  internal_timeout: 'yoo_money',
  country_forbidden: 'yoo_money',
};

export function cancellationFor(reason: string): CancellationDetails {
  return { party: PARTY_BY_REASON[reason] ?? 'payment_network', reason };
}

/** YooKassa ids look like "2d9a1c3e-000f-5000-9000-1b2c3d4e5f60": time prefix, object kind, random tail. */
export function yooKassaId(kind: 'payment' | 'refund'): string {
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
  const variant = '89ab'[randomInt(4)];
  return `${time}-${kind === 'payment' ? '000f' : '0016'}-5000-${variant}000-${randomBytes(6).toString('hex')}`;
}

/** YooKassa's test card, as it appears in payment_method after a successful test payment. */
export function testCardMethod(paymentId: string): PaymentMethod {
  return {
    type: 'bank_card',
    id: paymentId,
    saved: false,
    title: 'Bank card *4477',
    card: {
      first6: '555555',
      last4: '4477',
      expiry_month: '12',
      expiry_year: '2030',
      card_type: 'MasterCard',
    },
  };
}

export const iso = (ms: number) => new Date(ms).toISOString();

export function paymentView(p: PaymentRecord, ctx: ViewContext): Payment {
  const view: Payment = {
    id: p.id,
    status: p.status,
    paid: p.status === 'succeeded' || p.status === 'waiting_for_capture',
    amount: { ...p.amount },
    recipient: { account_id: ctx.shopId, gateway_id: ctx.gatewayId },
    created_at: iso(p.createdAt),
    test: true,
    refundable: p.status === 'succeeded' && p.refundedMinor < p.minor,
    metadata: { ...(p.metadata ?? {}) },
  };
  if (p.description !== undefined) view.description = p.description;
  if (p.method) view.payment_method = { ...p.method };
  if (p.capturedAt) view.captured_at = iso(p.capturedAt);
  // Fields that exist only in some statuses, as on YooKassa.
  if (p.status === 'pending')
    view.confirmation = { type: 'redirect', confirmation_url: ctx.checkoutUrl(p.id) };
  if (p.status === 'waiting_for_capture') view.expires_at = iso((p.paidAt ?? 0) + ctx.captureTtlMs);
  if (p.status === 'succeeded') {
    view.refunded_amount = { value: fromMinorUnits(p.refundedMinor), currency: p.amount.currency };
  }
  if (p.hasReceipt) view.receipt_registration = receiptState(p.status);
  if (p.cancellation) view.cancellation_details = { ...p.cancellation };
  return view;
}

function receiptState(status: PaymentStatus): 'pending' | 'succeeded' | 'canceled' {
  if (status === 'succeeded') return 'succeeded';
  return status === 'canceled' ? 'canceled' : 'pending';
}
