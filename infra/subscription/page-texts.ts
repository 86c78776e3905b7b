import type { Os } from './deep-links';
import type { PageLanguage } from './placeholder';
import type { AccessState } from './types';

export interface PageTexts {
  title: string;
  status: Record<AccessState, string>;
  daysLeft: (days: number) => string;
  until: string;
  traffic: string;
  unlimited: string;
  devices: string;
  qrHint: string;
  copy: string;
  copied: string;
  setup: string;
  steps: [string, string, string];
  os: Record<Os, string>;
  renew: string;
  support: string;
}

const ruDays = (n: number) => {
  const m10 = n % 10;
  const m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return 'день';
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return 'дня';
  return 'дней';
};

export const PAGE_TEXTS: Record<PageLanguage, PageTexts> = {
  ru: {
    title: 'Ваша подписка VPN',
    status: {
      active: 'Активна',
      expired: 'Закончилась',
      revoked: 'Отключена',
      suspended: 'Трафик исчерпан',
      device_limit: 'Превышен лимит устройств',
      hwid_required: 'Приложение не передаёт HWID',
    },
    daysLeft: (d) => `Осталось ${d} ${ruDays(d)}`,
    until: 'до',
    traffic: 'Трафик',
    unlimited: 'без ограничений',
    devices: 'Устройства',
    qrHint: 'Отсканируйте QR-код в приложении VPN или скопируйте ссылку.',
    copy: 'Копировать ссылку',
    copied: 'Скопировано',
    setup: 'Как подключиться',
    steps: [
      'Установите приложение из магазина приложений.',
      'Нажмите «Добавить» рядом с ним — подписка добавится сама.',
      'Включите VPN в приложении.',
    ],
    os: { android: 'Android', ios: 'iPhone и iPad', windows: 'Windows', macos: 'macOS', linux: 'Linux' },
    renew: 'Продлить в боте',
    support: 'Поддержка',
  },
  en: {
    title: 'Your VPN subscription',
    status: {
      active: 'Active',
      expired: 'Expired',
      revoked: 'Revoked',
      suspended: 'Traffic limit reached',
      device_limit: 'Too many devices',
      hwid_required: 'This app sends no HWID',
    },
    daysLeft: (d) => `${d} ${d === 1 ? 'day' : 'days'} left`,
    until: 'until',
    traffic: 'Traffic',
    unlimited: 'unlimited',
    devices: 'Devices',
    qrHint: 'Scan the QR code in your VPN app or copy the link.',
    copy: 'Copy link',
    copied: 'Copied',
    setup: 'How to connect',
    steps: [
      'Install the app from your app store.',
      'Tap "Add" next to it: the subscription is added by itself.',
      'Turn the VPN on in the app.',
    ],
    os: { android: 'Android', ios: 'iPhone & iPad', windows: 'Windows', macos: 'macOS', linux: 'Linux' },
    renew: 'Renew in the bot',
    support: 'Support',
  },
};

/** ru or en, by the Accept-Language preference order (q values); undefined when neither is asked for. */
export function languageFrom(acceptLanguage: string | undefined): PageLanguage | undefined {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { lang: tag.trim().toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.lang && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  const hit = ranked.find((x) => x.lang === 'ru' || x.lang === 'en');
  return hit?.lang as PageLanguage | undefined;
}
