import QRCode from 'qrcode';
import { appLinks, OSES, osFromUserAgent } from './deep-links';
import { PAGE_STYLE } from './page-style';
import { PAGE_TEXTS } from './page-texts';
import type { PageLanguage } from './placeholder';
import type { AccessView, SubscriptionLinks } from './types';

export interface PageInput {
  view: AccessView;
  links: SubscriptionLinks;
  language: PageLanguage;
  /** The browser's User-Agent: its OS section opens first. */
  userAgent?: string;
  /** CSP nonce for the one inline <style> and <script>. */
  nonce: string;
  now?: Date;
}

const DAY_MS = 86_400_000;

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.max(0, n);
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[i]}`;
}

export const daysLeft = (view: AccessView, now: Date) =>
  view.state === 'active' ? Math.max(0, Math.ceil((view.expireAt.getTime() - now.getTime()) / DAY_MS)) : 0;

/** The QR as inline SVG (no image requests, works where CDNs are blocked). */
export const qrSvg = (url: string) =>
  QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });

/** Copy button: Clipboard API where allowed, selection + execCommand as the fallback (plain http, old WebViews). */
const COPY_SCRIPT = `document.getElementById('copy').addEventListener('click',function(){
var f=document.getElementById('sub-url'),b=this,done=function(){b.textContent=b.dataset.done;};
if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(f.value).then(done,function(){f.select();document.execCommand('copy');done();});}
else{f.select();document.execCommand('copy');done();}});`;

/** The subscription page: small, mobile-first, everything inline (see README "Subscription URL"). */
export async function renderPage(input: PageInput): Promise<string> {
  const { view, links, language, nonce } = input;
  const t = PAGE_TEXTS[language];
  const e = escapeHtml;
  const now = input.now ?? new Date();
  const active = view.state === 'active';
  const used = view.uploadBytes + view.downloadBytes;
  const traffic = `${formatBytes(used)} / ${view.totalBytes > 0 ? formatBytes(view.totalBytes) : t.unlimited}`;
  const devices = `${view.devices}${view.deviceLimit > 0 ? ` / ${view.deviceLimit}` : ''}`;
  const date = view.expireAt.toLocaleDateString(language === 'ru' ? 'ru-RU' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
  const firstOs = osFromUserAgent(input.userAgent);
  const sections = OSES.map((os) => {
    const apps = appLinks(os, links.subscriptionUrl, view.title)
      .map(
        (a) =>
          `<li><span>${e(a.app)}</span><a class="add" data-app="${e(a.app)}" href="${e(a.href)}">+ ${e(a.app)}</a></li>`,
      )
      .join('');
    return (
      `<details data-os="${os}"${os === firstOs ? ' open' : ''}><summary>${e(t.os[os])}</summary>` +
      `<ol class="steps">${t.steps.map((s) => `<li>${e(s)}</li>`).join('')}</ol><ul class="apps">${apps}</ul></details>`
    );
  }).join('');
  const buttons = [
    links.renewUrl ? `<a class="btn primary" id="renew" href="${e(links.renewUrl)}">${e(t.renew)}</a>` : '',
    links.supportUrl ? `<a class="btn" id="support" href="${e(links.supportUrl)}">${e(t.support)}</a>` : '',
  ].join('');
  return `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>${e(t.title)}</title><style nonce="${nonce}">${PAGE_STYLE}</style></head>
<body><main>
<h1>${e(view.title)}</h1>
<section class="card">
<p id="status" class="status ${active ? 'ok' : 'bad'}" data-state="${view.state}">${e(t.status[view.state])}</p>
<dl>
<dt>${e(t.until)}</dt><dd id="expires">${e(date)}${active ? ` · <span id="days-left">${e(t.daysLeft(daysLeft(view, now)))}</span>` : ''}</dd>
<dt>${e(t.traffic)}</dt><dd id="traffic">${e(traffic)}</dd>
<dt>${e(t.devices)}</dt><dd id="devices">${e(devices)}</dd>
</dl>
<div class="actions">${buttons}</div>
</section>
<section class="card">
<div id="qr" class="qr">${await qrSvg(links.subscriptionUrl)}</div>
<p class="hint">${e(t.qrHint)}</p>
<input id="sub-url" readonly value="${e(links.subscriptionUrl)}" aria-label="URL">
<button id="copy" type="button" data-done="${e(t.copied)}">${e(t.copy)}</button>
</section>
<section class="card"><h2>${e(t.setup)}</h2>${sections}</section>
</main><script nonce="${nonce}">${COPY_SCRIPT}</script></body></html>
`;
}

/** Only our own inline style and script run; no external source of anything. */
export const pageCsp = (nonce: string) =>
  `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src data:; ` +
  `base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
