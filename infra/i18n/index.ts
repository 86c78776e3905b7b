import { en } from './en';
import { type Messages, ru } from './ru';

/** The one entry point for user-facing texts: `t(langFor(user.language_code)).notifications.expired`. */

export type Lang = 'ru' | 'en';
export const DEFAULT_LANG: Lang = 'ru';

const catalogs: Record<Lang, Messages> = { ru, en };

/** Telegram's language_code is an IETF tag ("en", "en-US", "ru"); English speakers get English, everyone else Russian. */
export function langFor(languageCode: string | null | undefined): Lang {
  return languageCode?.toLowerCase().startsWith('en') ? 'en' : DEFAULT_LANG;
}

export function t(lang: Lang | string | null | undefined): Messages {
  return lang === 'en' || lang === 'ru' ? catalogs[lang] : catalogs[langFor(lang)];
}

export type { GuideOs, Messages, TariffText } from './ru';
export { escapeHtml, PARSE_MODE, YOOKASSA_REASONS, type YooKassaReason } from './format';
