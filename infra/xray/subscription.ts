import { randomBytes } from 'node:crypto';

export interface SubscriptionInput {
  /** vless:// share links; empty for an expired subscription. */
  links: string[];
  upload: number;
  download: number;
  /** Traffic limit in bytes; 0 = unlimited. */
  total: number;
  expireAt: Date;
  title: string;
  supportUrl?: string;
  updateIntervalHours: number;
  /** Name offered by content-disposition; derived from the title when absent. */
  fileName?: string;
}

export interface RenderedSubscription {
  body: string;
  headers: Record<string, string>;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const bytes = (n: number) => String(Math.max(0, Math.floor(n)));

/** Header values must stay printable ASCII; quotes and backslashes would break the quoted filename. */
function asciiFileName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._ -]+/g, '')
    .trim()
    .replace(/\s+/g, '_');
  return cleaned || 'subscription';
}

/** The /sub/<token> response understood by v2rayNG, Hiddify, Streisand, v2rayN (see reference/xray.md). */
export function renderSubscription(input: SubscriptionInput): RenderedSubscription {
  const expire = Math.floor(input.expireAt.getTime() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'profile-update-interval': String(Math.max(1, Math.round(input.updateIntervalHours))),
    'subscription-userinfo': `upload=${bytes(input.upload)}; download=${bytes(input.download)}; total=${bytes(input.total)}; expire=${expire}`,
    'profile-title': `base64:${b64(input.title)}`,
    'content-disposition': `attachment; filename="${asciiFileName(input.fileName ?? input.title)}"`,
    'cache-control': 'no-store',
  };
  if (input.supportUrl) headers['support-url'] = input.supportUrl;
  return { body: b64(input.links.join('\n')), headers };
}

/** Unguessable subscription token: 24 random bytes (192 bits), URL-safe. */
export function newSubscriptionToken(): string {
  return randomBytes(24).toString('base64url');
}
