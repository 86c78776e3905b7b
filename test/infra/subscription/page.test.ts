import assert from 'node:assert/strict';
import { appLinks, osFromUserAgent } from '../../../infra/subscription/deep-links';
import { formatBytes, pageCsp, renderPage } from '../../../infra/subscription/page';
import { languageFrom } from '../../../infra/subscription/page-texts';
import { LINKS, view } from './fixtures';

const now = new Date('2030-01-01T00:00:00Z');
const page = (over: Parameters<typeof view>[0] = {}, language: 'ru' | 'en' = 'en', userAgent?: string) =>
  renderPage({ view: view(over), links: LINKS, language, userAgent, nonce: 'abc123', now });

describe('subscription page (rendering)', () => {
  it('language: Accept-Language preference order with q values; none when neither ru nor en is asked for', () => {
    assert.equal(languageFrom('ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7'), 'ru');
    assert.equal(languageFrom('en;q=0.5,ru;q=0.9'), 'ru');
    assert.equal(languageFrom('de-DE,de;q=0.9,en;q=0.8'), 'en');
    assert.equal(languageFrom('de-DE'), undefined); // the route falls back to the user's bot language
    assert.equal(languageFrom(undefined), undefined);
    assert.equal(languageFrom('ru;q=0,en'), 'en');
  });

  it('shows days left, unlimited or limited traffic, devices, and the browser’s OS section open', async () => {
    const html = await page({}, 'ru', 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)');
    assert.match(html, /id="days-left">Осталось 2 дня</);
    assert.match(html, /id="traffic">5\.42 MiB \/ без ограничений</);
    assert.match(html, /<details data-os="ios" open>/);
    const limited = await page({
      totalBytes: 50 * 1024 ** 3,
      uploadBytes: 1024 ** 3,
      downloadBytes: 0,
      devices: 2,
      deviceLimit: 3,
    });
    assert.match(limited, /id="traffic">1\.00 GiB \/ 50\.0 GiB</);
    assert.match(limited, /id="devices">2 \/ 3</);
    assert.equal(formatBytes(0), '0 B');
  });

  it('an expired access shows its state and no days left; the title is escaped', async () => {
    const html = await page({ state: 'expired', title: '<img src=x onerror=alert(1)> & "VPN"' });
    assert.match(html, /data-state="expired">Expired</);
    assert.ok(!html.includes('days-left'));
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;VPN&quot;'));
    assert.ok(!html.includes('<img'));
  });

  it('only nonce-tagged inline style and script, and the script is valid JavaScript', async () => {
    const html = await page();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.equal(scripts[0][1], ' nonce="abc123"');
    assert.doesNotThrow(() => new Function(scripts[0][2]));
    assert.match(html, /<style nonce="abc123">/);
    // Nothing is fetched from anywhere: no src= at all, no <link>, no url(...) in the CSS.
    assert.ok(!/\ssrc=|<link\b|url\(/i.test(html));
    assert.match(
      pageCsp('abc123'),
      /^default-src 'none'; style-src 'nonce-abc123'; script-src 'nonce-abc123'; img-src data:/,
    );
  });

  it('deep links carry the subscription URL as each app expects it', () => {
    const byApp = Object.fromEntries(
      appLinks('ios', LINKS.subscriptionUrl, 'VPN').map((l) => [l.app, l.href]),
    );
    assert.equal(byApp.Happ, `happ://add/${LINKS.subscriptionUrl}`);
    assert.equal(byApp.v2RayTun, `v2raytun://import/${LINKS.subscriptionUrl}`);
    assert.equal(byApp.Streisand, `streisand://import/${LINKS.subscriptionUrl}`);
    assert.equal(
      byApp['sing-box'],
      `sing-box://import-remote-profile?url=${encodeURIComponent(LINKS.subscriptionUrl)}#VPN`,
    );
    const sr = /^shadowrocket:\/\/add\/sub:\/\/([^?]+)\?remark=VPN$/.exec(byApp.Shadowrocket);
    assert.equal(Buffer.from(sr?.[1] ?? '', 'base64').toString(), LINKS.subscriptionUrl);
    assert.equal(osFromUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64)'), 'windows');
    assert.equal(osFromUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)'), 'macos');
  });
});
