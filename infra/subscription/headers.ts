import type { SubscriptionFormat } from './choose-format';
import type { AccessView, SubscriptionLinks } from './types';

const CONTENT_TYPES: Record<SubscriptionFormat, string> = {
  base64: 'text/plain; charset=utf-8',
  singbox: 'application/json; charset=utf-8',
  xray: 'application/json; charset=utf-8',
  clash: 'text/yaml; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const bytes = (n: number) => String(Math.max(0, Math.floor(Number.isFinite(n) ? n : 0)));

/** Header values must stay printable ASCII; quotes and backslashes would break the quoted filename. */
export function asciiFileName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._ -]+/g, '')
    .trim()
    .replace(/\s+/g, '_');
  return cleaned || 'subscription';
}

/** RFC 6266: an ASCII fallback plus the exact (e.g. Cyrillic) name as filename*. */
function contentDisposition(format: SubscriptionFormat, title: string): string {
  const kind = format === 'html' ? 'inline' : 'attachment';
  const exact = encodeURIComponent(title).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${asciiFileName(title)}"; filename*=UTF-8''${exact}`;
}

export const userInfo = (view: AccessView) =>
  `upload=${bytes(view.uploadBytes)}; download=${bytes(view.downloadBytes)}; total=${bytes(view.totalBytes)}; ` +
  `expire=${Math.floor(view.expireAt.getTime() / 1000)}`;

/** The headers clients read, the same on every format (see README "Subscription URL"). */
export function subscriptionHeaders(
  view: AccessView,
  links: SubscriptionLinks,
  format: SubscriptionFormat,
  updateIntervalHours: number,
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPES[format],
    'subscription-userinfo': userInfo(view),
    'profile-title': `base64:${b64(view.title)}`,
    'profile-update-interval': String(Math.max(1, Math.round(updateIntervalHours))),
    'profile-web-page-url': links.pageUrl,
    'content-disposition': contentDisposition(format, view.title),
    'cache-control': 'no-store',
    // The answer depends on these request headers: caches must not hand one client's format to another.
    vary: 'User-Agent, Accept, Accept-Language',
  };
  if (links.supportUrl) headers['support-url'] = links.supportUrl;
  return headers;
}
