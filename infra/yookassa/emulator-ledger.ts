/**
 * The emulator's books: payments, refunds and the YooKassa status machine. No HTTP here; every
 * status change is reported through `onEvent` so the server can send the notification.
 */
import { randomInt } from 'node:crypto';
import {
  ApiError,
  invalid,
  isObject,
  optionalString,
  parseAmount,
  parseMetadata,
  parseRedirectConfirmation,
  validateReceipt,
} from './emulator-validation';
import {
  cancellationFor,
  iso,
  type PaymentRecord,
  paymentView,
  testCardMethod,
  yooKassaId,
} from './emulator-records';
import type { NotificationEvent, Payment, PaymentMethod, PaymentStatus, Refund } from './types';

export interface LedgerOptions {
  shopId: string;
  checkoutUrl: (paymentId: string) => string;
  onEvent: (event: NotificationEvent, object: Payment | Refund) => void;
  /** How long the buyer has to pay before `expired_on_confirmation` (YooKassa: about an hour). */
  pendingTtlMs: number;
  /** How long a `waiting_for_capture` payment lives before `expired_on_capture`. */
  captureTtlMs: number;
  /** The shop sends receipts through YooKassa (54-FZ): payments and refunds without one are refused. */
  fiscalisation: () => boolean;
  /** True when the bank should decline this charge of a saved method (consumes one armed fault). */
  declineSavedCharge?: () => boolean;
}

export type Ledger = ReturnType<typeof createLedger>;

export function createLedger(options: LedgerOptions) {
  const payments = new Map<string, PaymentRecord>();
  const refunds = new Map<string, Refund>();
  /** Methods saved by a paid payment with save_payment_method: id → the method as first paid. */
  const savedMethods = new Map<string, PaymentMethod>();

  const context = { ...options, gatewayId: String(100000 + randomInt(900000)) };
  const view = (p: PaymentRecord): Payment => paymentView(p, context);

  function find(id: string): PaymentRecord {
    const p = payments.get(id);
    if (!p) throw new ApiError(404, 'not_found', `Payment ${id} doesn't exist or access denied`);
    return p;
  }

  function requireStatus(p: PaymentRecord, allowed: PaymentStatus[], action: string): void {
    if (!allowed.includes(p.status)) {
      throw invalid(undefined, `Can't ${action} payment ${p.id} in status ${p.status}`);
    }
  }

  function settle(p: PaymentRecord, status: PaymentStatus, cancelReason?: string): Payment {
    p.status = status;
    if (cancelReason) p.cancellation = cancellationFor(cancelReason);
    if (status === 'succeeded') p.capturedAt = Date.now();
    const snapshot = view(p);
    options.onEvent(`payment.${status}` as NotificationEvent, snapshot);
    return snapshot;
  }

  function cancel(p: PaymentRecord, reason: string): Payment {
    return settle(p, 'canceled', reason);
  }

  // What YooKassa answers a fiscalising shop that sent no receipt.
  function requireReceiptIfFiscal(receipt: unknown): void {
    if (receipt === undefined && options.fiscalisation()) {
      throw invalid('receipt', 'Receipt is missing or illegal');
    }
  }

  /**
   * A charge of a saved method (`payment_method_id`, the shop's recurring payment): no confirmation, no
   * redirect; the bank answers at once, so the payment is created already succeeded (or waiting for capture),
   * or canceled when the bank declines.
   */
  function chargeSavedMethod(
    body: Record<string, unknown>,
    minor: bigint,
    amount: Payment['amount'],
  ): Payment {
    const methodId = body.payment_method_id;
    if (typeof methodId !== 'string' || !savedMethods.has(methodId)) {
      throw invalid('payment_method_id', `Payment method ${String(methodId)} is not saved or does not exist`);
    }
    const p: PaymentRecord = {
      id: yooKassaId('payment'),
      status: 'pending',
      minor,
      amount,
      description: optionalString(body, 'description', 128),
      metadata: parseMetadata(body.metadata),
      capture: body.capture === true,
      returnUrl: '',
      hasReceipt: validateReceipt(body.receipt, minor, amount.currency) !== undefined,
      createdAt: Date.now(),
      refundedMinor: 0n,
      method: { ...savedMethods.get(methodId)! },
    };
    payments.set(p.id, p);
    if (options.declineSavedCharge?.()) return cancel(p, 'insufficient_funds');
    p.paidAt = Date.now();
    return settle(p, p.capture ? 'succeeded' : 'waiting_for_capture');
  }

  return {
    createPayment(body: unknown): Payment {
      if (!isObject(body)) throw invalid(undefined, 'Request body must be a JSON object');
      const { minor, amount } = parseAmount(body.amount, 'amount');
      requireReceiptIfFiscal(body.receipt);
      if (body.capture !== undefined && typeof body.capture !== 'boolean') {
        throw invalid('capture', 'capture must be a boolean');
      }
      if (body.save_payment_method !== undefined && typeof body.save_payment_method !== 'boolean') {
        throw invalid('save_payment_method', 'save_payment_method must be a boolean');
      }
      if (body.payment_method_id !== undefined) return chargeSavedMethod(body, minor, amount);
      const p: PaymentRecord = {
        id: yooKassaId('payment'),
        status: 'pending',
        minor,
        amount,
        description: optionalString(body, 'description', 128),
        metadata: parseMetadata(body.metadata),
        capture: body.capture === true,
        returnUrl: parseRedirectConfirmation(body.confirmation),
        hasReceipt: validateReceipt(body.receipt, minor, amount.currency) !== undefined,
        createdAt: Date.now(),
        refundedMinor: 0n,
        saveMethod: body.save_payment_method === true,
      };
      payments.set(p.id, p);
      return view(p);
    },

    getPayment: (id: string): Payment => view(find(id)),

    capturePayment(id: string, body: unknown): Payment {
      const p = find(id);
      requireStatus(p, ['waiting_for_capture'], 'capture');
      if (isObject(body) && body.amount !== undefined) {
        const { minor, amount } = parseAmount(body.amount, 'amount');
        if (amount.currency !== p.amount.currency) throw invalid('amount.currency', 'Currency differs');
        if (minor > p.minor) throw invalid('amount.value', 'Capture amount exceeds the authorized amount');
        p.minor = minor;
        p.amount = amount;
      }
      return settle(p, 'succeeded');
    },

    cancelPayment(id: string): Payment {
      const p = find(id);
      // YooKassa cancels through the API only two-stage payments; pending ones expire by themselves.
      requireStatus(p, ['waiting_for_capture'], 'cancel');
      return cancel(p, 'canceled_by_merchant');
    },

    createRefund(body: unknown): Refund {
      if (!isObject(body)) throw invalid(undefined, 'Request body must be a JSON object');
      if (typeof body.payment_id !== 'string') throw invalid('payment_id', 'payment_id is required');
      const p = payments.get(body.payment_id);
      if (!p) throw invalid('payment_id', `Payment ${body.payment_id} doesn't exist`);
      if (p.status !== 'succeeded')
        throw invalid('payment_id', `Can't refund a payment in status ${p.status}`);
      const { minor, amount } = parseAmount(body.amount, 'amount');
      if (amount.currency !== p.amount.currency) throw invalid('amount.currency', 'Currency differs');
      if (minor > p.minor - p.refundedMinor) {
        throw invalid('amount.value', 'Refund amount exceeds the amount available for refund');
      }
      requireReceiptIfFiscal(body.receipt);
      validateReceipt(body.receipt, minor, amount.currency);
      const description = optionalString(body, 'description', 250);
      p.refundedMinor += minor;
      const refund: Refund = {
        id: yooKassaId('refund'),
        payment_id: p.id,
        status: 'succeeded',
        amount,
        created_at: iso(Date.now()),
        ...(description !== undefined ? { description } : {}),
      };
      refunds.set(refund.id, refund);
      options.onEvent('refund.succeeded', { ...refund });
      return { ...refund };
    },

    getRefund(id: string): Refund {
      const refund = refunds.get(id);
      if (!refund) throw new ApiError(404, 'not_found', `Refund ${id} doesn't exist or access denied`);
      return { ...refund };
    },

    /** The buyer confirmed on the checkout page. */
    pay(id: string): Payment {
      const p = find(id);
      requireStatus(p, ['pending'], 'pay');
      p.paidAt = Date.now();
      p.method = testCardMethod(p.id);
      if (p.saveMethod) {
        p.method.saved = true;
        savedMethods.set(p.method.id, { ...p.method });
      }
      return settle(p, p.capture ? 'succeeded' : 'waiting_for_capture');
    },

    /** The bank (or YooKassa's antifraud) declined the buyer's attempt. */
    decline(id: string, reason = 'insufficient_funds'): Payment {
      const p = find(id);
      requireStatus(p, ['pending'], 'decline');
      return cancel(p, reason);
    },

    /** Lets the payment's deadline pass right now. */
    expire(id: string): Payment {
      const p = find(id);
      requireStatus(p, ['pending', 'waiting_for_capture'], 'expire');
      return cancel(p, p.status === 'pending' ? 'expired_on_confirmation' : 'expired_on_capture');
    },

    /** Cancels what has outlived its deadline, as YooKassa does on its own. */
    expireDue(now = Date.now()): void {
      for (const p of payments.values()) {
        if (p.status === 'pending' && now >= p.createdAt + options.pendingTtlMs) {
          cancel(p, 'expired_on_confirmation');
        } else if (p.status === 'waiting_for_capture' && now >= p.paidAt! + options.captureTtlMs) {
          cancel(p, 'expired_on_capture');
        }
      }
    },

    returnUrlOf: (id: string): string => find(id).returnUrl,
    listPayments: (): Payment[] => [...payments.values()].map(view),
    listRefunds: (): Refund[] => [...refunds.values()].map((r) => ({ ...r })),
    listSavedMethods: (): PaymentMethod[] => [...savedMethods.values()].map((m) => ({ ...m })),
  };
}
