import type { Context } from 'telegraf';
import type { GuideOs } from '../../infra/i18n';
import { cb, link, type Rows, show, textsFor } from '../ui';

/** Setup guides per OS. Download buttons point at the apps' official release pages; store apps are named in the text. */

const DOWNLOADS: Record<GuideOs, Array<{ app: string; url: string }>> = {
  ios: [],
  android: [
    { app: 'v2rayNG', url: 'https://github.com/2dust/v2rayNG/releases/latest' },
    { app: 'Hiddify', url: 'https://github.com/hiddify/hiddify-app/releases/latest' },
  ],
  windows: [
    { app: 'v2rayN', url: 'https://github.com/2dust/v2rayN/releases/latest' },
    { app: 'Hiddify', url: 'https://github.com/hiddify/hiddify-app/releases/latest' },
  ],
  macos: [{ app: 'Hiddify', url: 'https://github.com/hiddify/hiddify-app/releases/latest' }],
  linux: [
    { app: 'Hiddify', url: 'https://github.com/hiddify/hiddify-app/releases/latest' },
    { app: 'NekoRay', url: 'https://github.com/MatsuriDayo/nekoray/releases/latest' },
  ],
};

const ORDER: GuideOs[] = ['ios', 'android', 'windows', 'macos', 'linux'];

export async function showGuides(ctx: Context): Promise<void> {
  const m = textsFor(ctx);
  const osButtons = ORDER.map((os) => cb(m.guides.osNames[os], { type: 'guide', os }));
  await show(ctx, m.guides.chooseOs, [
    osButtons.slice(0, 2),
    osButtons.slice(2, 4),
    osButtons.slice(4),
    [cb(m.buttons.menu, { type: 'menu' })],
  ]);
}

export async function showGuide(ctx: Context, os: GuideOs): Promise<void> {
  const m = textsFor(ctx);
  const rows: Rows = DOWNLOADS[os].map((d) => [link(m.guides.download(d.app), d.url)]);
  rows.push([cb(m.buttons.mySubscription, { type: 'subscription' })]);
  rows.push([cb(m.buttons.back, { type: 'guides' }), cb(m.buttons.menu, { type: 'menu' })]);
  await show(ctx, m.guides.steps[os], rows);
}
