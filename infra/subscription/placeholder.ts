import type { BlockedReason, SubscriptionNode } from './types';

export type PageLanguage = 'ru' | 'en';

/**
 * A server entry that cannot connect (0.0.0.0:1, all-zero uuid) but whose NAME tells the user what happened
 * and where to renew: clients show names, so this beats an empty or broken profile.
 */
const WHAT: Record<PageLanguage, Record<BlockedReason, string>> = {
  ru: {
    expired: '⛔ Подписка закончилась',
    revoked: '⛔ Доступ отключён',
    suspended: '⛔ Трафик исчерпан',
    device_limit: '⛔ Слишком много устройств',
    hwid_required: '⛔ Приложение не передаёт HWID, откройте подписку в Happ или v2RayTun',
  },
  en: {
    expired: '⛔ Subscription expired',
    revoked: '⛔ Access revoked',
    suspended: '⛔ Traffic limit reached',
    device_limit: '⛔ Too many devices',
    hwid_required: '⛔ This app sends no HWID, open the subscription in Happ or v2RayTun',
  },
};
const RENEW: Record<PageLanguage, string> = { ru: 'продлить', en: 'renew' };

/** A valid-looking x25519 key (32 zero bytes) so strict parsers accept the entry. */
const NO_KEY = 'A'.repeat(43);
const NO_UUID = '00000000-0000-0000-0000-000000000000';

export function placeholderName(reason: BlockedReason, language: PageLanguage, renewAt?: string): string {
  const where = renewAt ? ` — ${RENEW[language]}: ${renewAt.replace(/^https?:\/\//, '')}` : '';
  return `${WHAT[language][reason]}${where}`;
}

export function placeholderNode(
  reason: BlockedReason,
  language: PageLanguage,
  renewAt?: string,
): SubscriptionNode {
  return {
    name: placeholderName(reason, language, renewAt),
    host: '0.0.0.0',
    port: 1,
    uuid: NO_UUID,
    flow: 'xtls-rprx-vision',
    serverName: 'placeholder.invalid',
    publicKey: NO_KEY,
    shortId: '',
    fingerprint: 'chrome',
  };
}

export const expiredPlaceholder = (language: PageLanguage, renewAt?: string) =>
  placeholderNode('expired', language, renewAt);
export const revokedPlaceholder = (language: PageLanguage, renewAt?: string) =>
  placeholderNode('revoked', language, renewAt);
/** For when traffic quotas exist: the access is paid but its traffic is used up. */
export const suspendedPlaceholder = (language: PageLanguage, renewAt?: string) =>
  placeholderNode('suspended', language, renewAt);
/** For when device limits exist: this device is one too many. */
export const deviceLimitPlaceholder = (language: PageLanguage, renewAt?: string) =>
  placeholderNode('device_limit', language, renewAt);
