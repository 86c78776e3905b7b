/**
 * 54-FZ receipts. With fiscalisation on, YooKassa refuses a payment or a refund that has no
 * `receipt`, so when YOOKASSA_RECEIPT=on every card payment and every refund carries one.
 * The buyer's contact is the shop's configured default (YOOKASSA_RECEIPT_CUSTOMER): the bot never
 * asks users for an email or phone, and YooKassa only needs somewhere to send the receipt.
 */
import { z } from 'zod';
import type { Receipt } from './types';

export type ReceiptCustomer = { email: string } | { phone: string };

export interface ReceiptSettings {
  customer?: ReceiptCustomer;
  /** YooKassa vat_code: 1 = without VAT, 2 = 0%, 3 = 10%, 4 = 20%, ... 12. */
  vatCode: number;
  /** 1..6 (1 = OSN, 2 = USN income, ...); only needed when the shop has several systems. */
  taxSystemCode?: number;
  paymentMode?: string;
  paymentSubject?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?(\d{11,15})$/;

/** "email:shop@example.ru" or "phone:79001234567" (E.164 digits; a leading + is dropped). */
export function parseReceiptCustomer(text: string): ReceiptCustomer {
  const [kind, ...rest] = text.trim().split(':');
  const value = rest.join(':').trim();
  if (kind === 'email' && EMAIL.test(value)) return { email: value };
  const phone = PHONE.exec(value);
  if (kind === 'phone' && phone) return { phone: phone[1]! };
  throw new Error('must be email:<address> or phone:<digits>, e.g. email:receipts@shop.ru');
}

export const receiptCustomerField = z.string().transform((v, ctx) => {
  try {
    return parseReceiptCustomer(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** The receipt settings of a parsed config, or undefined when receipts are off. */
export function receiptSettingsFrom(config: {
  YOOKASSA_RECEIPT: 'on' | 'off';
  YOOKASSA_VAT_CODE: number;
  YOOKASSA_TAX_SYSTEM_CODE?: number;
  YOOKASSA_RECEIPT_CUSTOMER?: ReceiptCustomer;
}): ReceiptSettings | undefined {
  if (config.YOOKASSA_RECEIPT !== 'on') return undefined;
  return {
    customer: config.YOOKASSA_RECEIPT_CUSTOMER,
    vatCode: config.YOOKASSA_VAT_CODE,
    taxSystemCode: config.YOOKASSA_TAX_SYSTEM_CODE,
  };
}

/** One "service, full payment" line for the whole amount; undefined without a customer contact. */
export function buildReceipt(
  settings: ReceiptSettings | undefined,
  item: { description: string; amount: string; currency: string },
  customer: ReceiptCustomer | undefined = settings?.customer,
): Receipt | undefined {
  if (!settings || !customer) return undefined;
  return {
    customer,
    items: [
      {
        description: item.description.slice(0, 128),
        quantity: '1.00',
        amount: { value: item.amount, currency: item.currency },
        vat_code: settings.vatCode,
        payment_mode: settings.paymentMode ?? 'full_payment',
        payment_subject: settings.paymentSubject ?? 'service',
      },
    ],
    ...(settings.taxSystemCode !== undefined ? { tax_system_code: settings.taxSystemCode } : {}),
  };
}
