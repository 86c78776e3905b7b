/** The answers of GET /sub/<token>, named as in the contract (`?format=`). */
export const SUBSCRIPTION_FORMATS = ['base64', 'singbox', 'clash', 'xray', 'html'] as const;
export type SubscriptionFormat = (typeof SUBSCRIPTION_FORMATS)[number];

export interface FormatRule {
  /** Which clients, for the README table. */
  clients: string;
  userAgent: RegExp;
  format: SubscriptionFormat;
}

/**
 * Ordered: the first match wins. Hiddify comes first because its User-Agent also says "ClashMeta"
 * ("HiddifyNext/2.5.7 (android) like ClashMeta v2ray sing-box") but it runs sing-box.
 */
export const FORMAT_RULES: readonly FormatRule[] = [
  { clients: 'Hiddify', userAgent: /hiddify/i, format: 'singbox' },
  {
    clients: 'sing-box, SFA, SFI, SFM, SFT, Karing',
    userAgent: /^(?:SF[AIMT])\/|sing-box|\bkaring\b/i,
    format: 'singbox',
  },
  {
    clients: 'clash-verge, Clash-Meta / ClashMeta, FlClash, mihomo, Stash, other Clash',
    userAgent: /clash|mihomo|^stash\//i,
    format: 'clash',
  },
  {
    clients: 'Happ, v2rayN, v2rayNG, v2RayTun, Streisand, Shadowrocket, V2Box',
    userAgent: /\bhapp\b|v2rayn|v2raytun|streisand|shadowrocket|v2box/i,
    format: 'base64',
  },
];

export interface FormatRequest {
  format?: SubscriptionFormat;
  userAgent?: string;
  accept?: string;
}

/** `?format=` wins; then the User-Agent rules; then a browser (Accept: text/html) gets the page; else base64. */
export function chooseFormat(req: FormatRequest): SubscriptionFormat {
  if (req.format) return req.format;
  const ua = req.userAgent ?? '';
  const rule = FORMAT_RULES.find((r) => r.userAgent.test(ua));
  if (rule) return rule.format;
  if (/\btext\/html\b/i.test(req.accept ?? '')) return 'html';
  return 'base64';
}
