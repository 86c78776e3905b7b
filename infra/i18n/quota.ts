// Texts of the traffic quota (issue 12): kept apart from en.ts/ru.ts so the catalogs stay small to merge.

export interface QuotaTexts {
  exhausted: (p: { limit: string }) => string;
  restored: string;
  packAdded: (p: { added: string; used: string; allowance: string | null }) => string;
  /** A line for "My subscription": used of allowance (or unlimited), and whether it is off for now. */
  usage: (p: { used: string; allowance: string | null; suspended: boolean }) => string;
  buyPack: string;
  upgrade: string;
  /** payments/create said 409 no_active_subscription. */
  packNeedsAccess: string;
  /** A traffic pack in the catalog and on its payment screen. */
  pack: (p: { name: string; size: string; price: string; currency: string }) => string;
}

/** 1536 → "1.5 KB"; 1048576 → "1 MB"; binary units, one decimal at most. */
export function formatBytes(n: number, lang: 'en' | 'ru' = 'en'): string {
  const units = lang === 'ru' ? ['Б', 'КБ', 'МБ', 'ГБ', 'ТБ'] : ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(1).replace(/\.0$/, '');
  return `${lang === 'ru' ? text.replace('.', ',') : text} ${units[i]}`;
}

export const quotaEn: QuotaTexts = {
  exhausted: ({ limit }) =>
    `⛔ <b>Your traffic for this period is used up</b> (${limit}). VPN access is paused until the traffic resets.\n\n` +
    'Buy a traffic pack to continue now, or move to a bigger plan.',
  restored: '✅ <b>Your traffic has been reset</b>: VPN access is back on. Your key is the same.',
  packAdded: ({ added, used, allowance }) =>
    `✅ <b>Traffic pack added</b>: +${added}.\nUsed ${used}${allowance ? ` of ${allowance}` : ''} this period. Your key works as before.`,
  usage: ({ used, allowance, suspended }) =>
    `📊 Traffic: ${used}${allowance ? ` of ${allowance}` : ' (unlimited)'}` +
    (suspended ? '\n⛔ Used up: access is paused until the reset or a traffic pack.' : ''),
  buyPack: '➕ Buy a traffic pack',
  upgrade: '⬆️ Upgrade the plan',
  packNeedsAccess: 'A traffic pack adds traffic to an active subscription. Choose a plan first.',
  pack: ({ name, size, price, currency }) => `➕ ${name}: +${size} this period — ${price} ${currency}`,
};

export const quotaRu: QuotaTexts = {
  exhausted: ({ limit }) =>
    `⛔ <b>Трафик на этот период закончился</b> (${limit}). Доступ к VPN приостановлен до сброса трафика.\n\n` +
    'Купите пакет трафика, чтобы продолжить сейчас, или перейдите на тариф побольше.',
  restored: '✅ <b>Трафик сброшен</b>: доступ к VPN снова включён. Ключ прежний.',
  packAdded: ({ added, used, allowance }) =>
    `✅ <b>Пакет трафика добавлен</b>: +${added}.\nИспользовано ${used}${allowance ? ` из ${allowance}` : ''} за период. Ключ работает как прежде.`,
  usage: ({ used, allowance, suspended }) =>
    `📊 Трафик: ${used}${allowance ? ` из ${allowance}` : ' (без ограничений)'}` +
    (suspended ? '\n⛔ Закончился: доступ приостановлен до сброса или покупки пакета.' : ''),
  buyPack: '➕ Купить пакет трафика',
  upgrade: '⬆️ Тариф побольше',
  packNeedsAccess: 'Пакет трафика добавляется к действующей подписке. Сначала выберите тариф.',
  pack: ({ name, size, price, currency }) => `➕ ${name}: +${size} на этот период — ${price} ${currency}`,
};

export function quotaTexts(lang: string | null | undefined): { m: QuotaTexts; lang: 'en' | 'ru' } {
  return lang?.toLowerCase().startsWith('en') ? { m: quotaEn, lang: 'en' } : { m: quotaRu, lang: 'ru' };
}
