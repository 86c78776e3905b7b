/**
 * Wire types of the YooKassa API v3 (https://yookassa.ru/developers/api), limited to what this
 * project reads or writes. Field names stay snake_case exactly as YooKassa sends them.
 */

/** Money is always a decimal string with two digits after the point: never a float. */
export interface Amount {
  value: string;
  currency: string;
}

export type PaymentStatus = 'pending' | 'waiting_for_capture' | 'succeeded' | 'canceled';
export type RefundStatus = 'pending' | 'succeeded' | 'canceled';

export type CancellationParty = 'yoo_money' | 'payment_network' | 'merchant';

/** Reasons YooKassa reports in `cancellation_details.reason` (not exhaustive: new ones appear). */
export const CANCELLATION_REASONS = [
  '3d_secure_failed',
  'call_issuer',
  'canceled_by_merchant',
  'card_expired',
  'country_forbidden',
  'deal_expired',
  'expired_on_capture',
  'expired_on_confirmation',
  'fraud_suspected',
  'general_decline',
  'identification_required',
  'insufficient_funds',
  'internal_timeout',
  'invalid_card_number',
  'invalid_csc',
  'issuer_unavailable',
  'payment_method_limit_exceeded',
  'payment_method_restricted',
  'permission_revoked',
  'unsupported_mobile_operator',
] as const;

export interface CancellationDetails {
  party: CancellationParty | string;
  reason: string;
}

export interface RedirectConfirmation {
  type: 'redirect';
  confirmation_url?: string;
  return_url?: string;
}

export interface PaymentMethod {
  type: string;
  id: string;
  saved: boolean;
  title?: string;
  card?: { first6?: string; last4: string; expiry_month: string; expiry_year: string; card_type: string };
}

export interface Payment {
  id: string;
  status: PaymentStatus;
  paid: boolean;
  amount: Amount;
  description?: string;
  recipient?: { account_id: string; gateway_id: string };
  payment_method?: PaymentMethod;
  created_at: string;
  captured_at?: string;
  /** Only for `waiting_for_capture`: the payment is canceled automatically at this moment. */
  expires_at?: string;
  confirmation?: RedirectConfirmation;
  test: boolean;
  refunded_amount?: Amount;
  refundable: boolean;
  receipt_registration?: 'pending' | 'succeeded' | 'canceled';
  metadata?: Record<string, string>;
  cancellation_details?: CancellationDetails;
}

export interface Refund {
  id: string;
  payment_id: string;
  status: RefundStatus;
  amount: Amount;
  created_at: string;
  description?: string;
  cancellation_details?: CancellationDetails;
}

/** 54-FZ receipt as YooKassa accepts it in `POST /payments` (`receipt`). */
export interface ReceiptItem {
  description: string;
  quantity: string;
  amount: Amount;
  vat_code: number;
  payment_mode?: string;
  payment_subject?: string;
}

export interface Receipt {
  customer: { email?: string; phone?: string };
  items: ReceiptItem[];
  tax_system_code?: number;
}

export type NotificationEvent =
  | 'payment.waiting_for_capture'
  | 'payment.succeeded'
  | 'payment.canceled'
  | 'refund.succeeded';

/** Body YooKassa POSTs to the shop's webhook URL. It is not signed: re-read the object by id. */
export interface Notification {
  type: 'notification';
  event: NotificationEvent;
  object: Payment | Refund;
}

/** Body of every non-200 answer. */
export interface ErrorBody {
  type: 'error';
  id: string;
  code: string;
  description?: string;
  parameter?: string;
}
