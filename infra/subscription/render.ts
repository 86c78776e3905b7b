import { renderBase64 } from './base64';
import type { SubscriptionFormat } from './choose-format';
import { renderClash } from './clash';
import { subscriptionHeaders } from './headers';
import { pageCsp, renderPage } from './page';
import type { PageLanguage } from './placeholder';
import { renderSingBox } from './singbox';
import type { AccessView, RenderedSubscription, SubscriptionLinks } from './types';
import { renderXrayJson } from './xray-json';

export interface RenderOptions {
  updateIntervalHours: number;
  language: PageLanguage;
  userAgent?: string;
  /** Per-response CSP nonce for the page. */
  nonce: string;
}

const BODIES: Record<Exclude<SubscriptionFormat, 'html'>, (view: AccessView) => string> = {
  base64: (v) => renderBase64(v.nodes),
  singbox: (v) => renderSingBox(v.nodes),
  clash: (v) => renderClash(v.nodes),
  xray: (v) => renderXrayJson(v.nodes),
};

/** One answer of GET /sub/<token>: the chosen format's body plus the headers every format carries. */
export async function renderSubscription(
  format: SubscriptionFormat,
  view: AccessView,
  links: SubscriptionLinks,
  opts: RenderOptions,
): Promise<RenderedSubscription> {
  const headers = subscriptionHeaders(view, links, format, opts.updateIntervalHours);
  if (format !== 'html') return { body: BODIES[format](view), headers };
  headers['content-security-policy'] = pageCsp(opts.nonce);
  const body = await renderPage({
    view,
    links,
    language: opts.language,
    userAgent: opts.userAgent,
    nonce: opts.nonce,
  });
  return { body, headers };
}
