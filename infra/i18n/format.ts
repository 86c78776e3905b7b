import { CANCELLATION_REASONS } from '../yookassa/types';
/** Formatting shared by every language. All message texts are Telegram HTML, so values are escaped. */

export const PARSE_MODE = 'HTML' as const;

/** Escapes a value for Telegram's HTML parse mode (only &, < and > are special there). */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Service dates are shown in Moscow time: the shop, its support and its users live there. */
const TIME_ZONE = 'Europe/Moscow';

export function formatDateTime(value: Date | string, locale: 'ru-RU' | 'en-GB'): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return escapeHtml(String(value));
  const text = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: TIME_ZONE,
  }).format(date);
  return `${text} ${locale === 'ru-RU' ? 'МСК' : 'MSK'}`;
}

/** Russian plural: pluralRu(5, ['день', 'дня', 'дней']) → 'дней'. */
export function pluralRu(n: number, forms: [one: string, few: string, many: string]): string {
  const abs = Math.abs(Math.trunc(n));
  const mod10 = abs % 10;
  const mod100 = abs % 100;
  if (mod10 === 1 && mod100 !== 11) return forms[0];
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return forms[1];
  return forms[2];
}

export function pluralEn(n: number, one: string, many: string): string {
  return Math.abs(n) === 1 ? one : many;
}

/** Splits a (possibly fractional: hourly and minute tariffs exist) day count into its biggest whole unit. */
export function durationUnit(days: number): { unit: 'day' | 'hour' | 'minute'; count: number } {
  if (days >= 1 && Number.isInteger(days)) return { unit: 'day', count: days };
  const minutes = Math.round(days * 24 * 60);
  if (minutes >= 60 && minutes % 60 === 0) return { unit: 'hour', count: minutes / 60 };
  return { unit: 'minute', count: Math.max(minutes, 1) };
}

const CURRENCY_SIGNS: Record<string, string> = { RUB: '₽', USD: '$', EUR: '€', XTR: '⭐' };

/** "199 ₽", "149.50 ₽", "50 ⭐": YooKassa amounts arrive as strings like "199.00". */
export function formatPrice(amount: string | number, currency: string): string {
  const value = Number(amount);
  const shown = Number.isFinite(value)
    ? Number.isInteger(value)
      ? String(value)
      : value.toFixed(2)
    : amount;
  return `${escapeHtml(shown)} ${CURRENCY_SIGNS[currency] ?? escapeHtml(currency)}`;
}

/** YooKassa's cancellation_details.reason values: one list, kept with the YooKassa wire types. */
export const YOOKASSA_REASONS = CANCELLATION_REASONS;

export type YooKassaReason = (typeof YOOKASSA_REASONS)[number];
