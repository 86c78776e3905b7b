/**
 * Request-body checks of the YooKassa emulator, with the limits YooKassa documents. Each failure
 * names the offending parameter the way YooKassa does ("amount.value", "metadata").
 */
import type { Amount, Receipt } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
    readonly parameter?: string,
  ) {
    super(description);
  }
}

export const invalid = (parameter: string | undefined, description: string) =>
  new ApiError(400, 'invalid_request', description, parameter);

const AMOUNT_VALUE = /^\d+(\.\d{1,2})?$/;
const CURRENCY = /^[A-Z]{3}$/;

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the amount in minor units plus its canonical "0.00" form. */
export function parseAmount(value: unknown, parameter: string): { minor: bigint; amount: Amount } {
  if (!isObject(value)) throw invalid(parameter, `${parameter} is required`);
  const { value: raw, currency } = value;
  if (typeof raw !== 'string' || !AMOUNT_VALUE.test(raw)) {
    throw invalid(`${parameter}.value`, `${parameter}.value must be a decimal string like "100.00"`);
  }
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
    throw invalid(`${parameter}.currency`, `${parameter}.currency must be an ISO-4217 code`);
  }
  const [whole, fraction = ''] = raw.split('.');
  const minor = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
  if (minor <= 0n) throw invalid(`${parameter}.value`, `${parameter}.value must be greater than 0`);
  const canonical = `${minor / 100n}.${(minor % 100n).toString().padStart(2, '0')}`;
  return { minor, amount: { value: canonical, currency } };
}

export function optionalString(body: Json, key: string, max: number): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(key, `${key} must be a string`);
  if (value.length > max) throw invalid(key, `${key} is longer than ${max} characters`);
  return value;
}

export function parseMetadata(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid('metadata', 'metadata must be an object');
  const entries = Object.entries(value);
  if (entries.length > 16) throw invalid('metadata', 'metadata has more than 16 keys');
  const result: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (key.length > 32) throw invalid('metadata', `metadata key "${key}" is longer than 32 characters`);
    if (typeof item !== 'string') throw invalid('metadata', `metadata.${key} must be a string`);
    if (item.length > 512) throw invalid('metadata', `metadata.${key} is longer than 512 characters`);
    result[key] = item;
  }
  return result;
}

export function parseRedirectConfirmation(value: unknown): string {
  if (!isObject(value)) throw invalid('confirmation', 'confirmation is required for a redirect payment');
  if (value.type !== 'redirect') {
    throw invalid('confirmation.type', 'this emulator supports only confirmation.type "redirect"');
  }
  const returnUrl = value.return_url;
  if (typeof returnUrl !== 'string' || returnUrl.length > 2048 || !isHttpUrl(returnUrl)) {
    throw invalid('confirmation.return_url', 'confirmation.return_url must be an http(s) URL');
  }
  return returnUrl;
}

/** 54-FZ receipt: a customer contact and items whose total equals the payment amount. */
export function validateReceipt(value: unknown, paymentMinor: bigint, currency: string): Receipt | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid('receipt', 'receipt must be an object');
  const customer = isObject(value.customer) ? value.customer : {};
  if (typeof customer.email !== 'string' && typeof customer.phone !== 'string') {
    throw invalid('receipt.customer', 'receipt.customer needs an email or a phone');
  }
  if (!Array.isArray(value.items) || value.items.length === 0 || value.items.length > 100) {
    throw invalid('receipt.items', 'receipt.items must hold 1..100 items');
  }
  let totalThousandths = 0n;
  value.items.forEach((item: unknown, index: number) => {
    const at = `receipt.items[${index}]`;
    if (!isObject(item)) throw invalid(at, `${at} must be an object`);
    if (
      typeof item.description !== 'string' ||
      item.description.length === 0 ||
      item.description.length > 128
    ) {
      throw invalid(`${at}.description`, `${at}.description must be 1..128 characters`);
    }
    const quantity = String(item.quantity ?? '');
    if (!/^\d+(\.\d{1,3})?$/.test(quantity) || Number(quantity) <= 0) {
      throw invalid(`${at}.quantity`, `${at}.quantity must be a positive number`);
    }
    if (!Number.isInteger(item.vat_code) || (item.vat_code as number) < 1 || (item.vat_code as number) > 12) {
      throw invalid(`${at}.vat_code`, `${at}.vat_code must be an integer 1..12`);
    }
    const { minor, amount } = parseAmount(item.amount, `${at}.amount`);
    if (amount.currency !== currency) throw invalid(`${at}.amount.currency`, 'receipt currency differs');
    const [whole, fraction = ''] = quantity.split('.');
    totalThousandths += minor * (BigInt(whole!) * 1000n + BigInt(fraction.padEnd(3, '0')));
  });
  if (totalThousandths !== paymentMinor * 1000n) {
    throw invalid('receipt.items', 'the sum of receipt items differs from the payment amount');
  }
  return value as unknown as Receipt;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
