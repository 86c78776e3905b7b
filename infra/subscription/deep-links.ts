/** One "Add to app" button: the client's import scheme carrying our subscription URL. */
export interface AppLink {
  app: string;
  href: string;
}

export type Os = 'android' | 'ios' | 'windows' | 'macos' | 'linux';
export const OSES: readonly Os[] = ['android', 'ios', 'windows', 'macos', 'linux'];

const enc = encodeURIComponent;

/** Import schemes, as each client documents them; the client then fetches the URL with its own User-Agent. */
export const DEEP_LINKS = {
  Happ: (url: string) => `happ://add/${url}`,
  v2RayTun: (url: string) => `v2raytun://import/${url}`,
  Hiddify: (url: string, name: string) => `hiddify://import/${url}#${enc(name)}`,
  'sing-box': (url: string, name: string) => `sing-box://import-remote-profile?url=${enc(url)}#${enc(name)}`,
  Clash: (url: string, name: string) => `clash://install-config?url=${enc(url)}&name=${enc(name)}`,
  v2rayNG: (url: string, name: string) => `v2rayng://install-config?url=${enc(url)}#${enc(name)}`,
  Streisand: (url: string) => `streisand://import/${url}`,
  Shadowrocket: (url: string, name: string) =>
    `shadowrocket://add/sub://${Buffer.from(url).toString('base64')}?remark=${enc(name)}`,
} as const;

export type AppName = keyof typeof DEEP_LINKS;

/** Which apps each OS gets, most recommended first. */
export const APPS_BY_OS: Record<Os, AppName[]> = {
  android: ['Happ', 'v2RayTun', 'Hiddify', 'v2rayNG', 'sing-box', 'Clash'],
  ios: ['Happ', 'v2RayTun', 'Streisand', 'Shadowrocket', 'sing-box', 'Hiddify'],
  windows: ['Happ', 'Hiddify', 'v2RayTun', 'Clash'],
  macos: ['Happ', 'v2RayTun', 'Streisand', 'Hiddify', 'sing-box', 'Clash'],
  linux: ['Hiddify', 'Clash', 'sing-box'],
};

export function appLinks(os: Os, subscriptionUrl: string, name: string): AppLink[] {
  return APPS_BY_OS[os].map((app) => ({ app, href: DEEP_LINKS[app](subscriptionUrl, name) }));
}

/** The visitor's OS from the browser's User-Agent, to open its section first. */
export function osFromUserAgent(ua: string | undefined): Os {
  const s = ua ?? '';
  if (/android/i.test(s)) return 'android';
  if (/iphone|ipad|ipod/i.test(s)) return 'ios';
  if (/windows/i.test(s)) return 'windows';
  if (/mac os x|macintosh/i.test(s)) return 'macos';
  if (/linux|x11/i.test(s)) return 'linux';
  return 'android';
}
