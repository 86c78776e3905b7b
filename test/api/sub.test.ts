import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { parseVlessLink } from '../../infra/xray/link';
import { insertNode, insertSubscription, insertTariff, insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApi } from './harness';

const DAY = 86_400_000;
const CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
// biome-ignore lint/suspicious/noExplicitAny: parsed client configs are inspected freely
type Json = any;

describe('api: GET /sub/<token> in every format', () => {
  let api: ApiHarness;
  let active: Record<string, string>;
  let expired: Record<string, string>;
  let expiresAt: Date;
  let tg: number;

  before(async () => {
    api = await startApi({ env: { SUB_UPDATE_INTERVAL_HOURS: '6', BOT_USERNAME: '@my_vpn_bot' } });
    const node = await insertNode(api.orm, 'nl-1');
    const tariff = await insertTariff(api.orm);
    await api.orm.em.getConnection().execute(`update tariffs set name = 'Месяц' where id = ?`, [tariff.id]);
    tg = uniqueTelegramId();
    const user = await insertUser(api.orm, tg);
    expiresAt = new Date(Date.now() + 10 * DAY);
    active = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt,
    });
    await api.orm.em
      .getConnection()
      .execute(`update subscriptions set status = 'expired' where id = ?`, [active.id]);
    expired = active;
    active = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt,
    });
    await api.orm.em
      .getConnection()
      .execute(`update subscriptions set expires_at = now() - interval '1 day' where id = ?`, [expired.id]);
  });
  after(() => api.close());

  const get = (token: string, headers: Record<string, string> = {}, query = '') =>
    api.call('GET', `/sub/${token}${query}`, { token: null, headers });
  const subUrl = () => `https://vpn.example/sub/${active.subscription_token}`;

  it('headers are exact, profile-title carries the Cyrillic tariff name, the interval is configurable', async () => {
    const res = await get(active.subscription_token, { 'user-agent': 'v2rayNG/1.9.44' });
    assert.equal(res.status, 200);
    const title = 'VPN · Месяц';
    const expected: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      'subscription-userinfo': `upload=1024; download=2048; total=0; expire=${Math.floor(expiresAt.getTime() / 1000)}`,
      'profile-title': `base64:${Buffer.from(title).toString('base64')}`,
      'profile-update-interval': '6',
      'support-url': 'https://t.me/support',
      'profile-web-page-url': `${subUrl()}?format=html`,
      'content-disposition': `attachment; filename="VPN"; filename*=UTF-8''${encodeURIComponent(title)}`,
      'cache-control': 'no-store',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(res.headers.get(name), value, name);
    const decoded = Buffer.from(res.headers.get('profile-title')!.slice(7), 'base64').toString('utf8');
    assert.equal(decoded, title);
  });

  it('chooses by User-Agent: Hiddify → sing-box, clash-verge → Clash YAML, v2rayNG → base64', async () => {
    const hiddify = await get(active.subscription_token, {
      'user-agent': 'HiddifyNext/2.5.7 (android) like ClashMeta v2ray sing-box',
    });
    assert.equal(hiddify.headers.get('content-type'), 'application/json; charset=utf-8');
    const vless = hiddify.body.outbounds.find((o: Json) => o.type === 'vless');
    assert.deepEqual(
      [vless.uuid, vless.server, vless.tls.reality.public_key],
      [active.client_uuid, 'nl1.vpn.example', 'pbk-public-key'],
    );

    const clash = await get(active.subscription_token, { 'user-agent': 'clash-verge/v2.2.3' });
    assert.equal(clash.headers.get('content-type'), 'text/yaml; charset=utf-8');
    const yaml: Json = parseYaml(clash.text);
    assert.deepEqual(
      [yaml.proxies[0].uuid, yaml.proxies[0]['reality-opts']],
      [active.client_uuid, { 'public-key': 'pbk-public-key', 'short-id': 'abcd' }],
    );

    const v2 = await get(active.subscription_token, { 'user-agent': 'v2rayNG/1.9.44' });
    assert.equal(parseVlessLink(Buffer.from(v2.text, 'base64').toString()).uuid, active.client_uuid);
  });

  it('?format=xray gives the Xray JSON array; an unknown format is a 422 naming the field', async () => {
    const xray = await get(active.subscription_token, { 'user-agent': 'Happ/1.63.1' }, '?format=xray');
    assert.equal(xray.status, 200);
    assert.equal(xray.body[0].outbounds[0].settings.vnext[0].users[0].id, active.client_uuid);
    const bad = await get(active.subscription_token, {}, '?format=wireguard');
    assert.deepEqual([bad.status, bad.body.error, bad.body.field], [422, 'validation_failed', 'format']);
  });

  it('a browser gets the page (ru/en by Accept-Language) with a CSP that allows only our inline code', async () => {
    const ru = await get(active.subscription_token, {
      'user-agent': CHROME,
      accept: BROWSER_ACCEPT,
      'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8',
    });
    assert.equal(ru.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(ru.headers.get('content-disposition') ?? '', /^inline; /);
    assert.match(ru.text, /<html lang="ru">/);
    assert.match(ru.text, /Активна/);
    assert.match(ru.text, /href="https:\/\/t\.me\/my_vpn_bot"/, 'renew button opens the bot');
    assert.ok(ru.text.includes(`happ://add/${subUrl()}`));
    const csp = ru.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.ok(ru.text.includes(`<script nonce="${nonce}">`));
    assert.ok(!/<(?:script|link|img)[^>]+(?:src|href)="http/i.test(ru.text), 'nothing loaded from elsewhere');

    const en = await get(
      active.subscription_token,
      { 'user-agent': CHROME, 'accept-language': 'de-DE,en;q=0.5' },
      '?format=html',
    );
    assert.match(en.text, /<html lang="en">/);
    assert.match(en.text, /Active/);
  });

  it('expired: a placeholder entry in every format naming what happened and where to renew', async () => {
    const renew = /t\.me\/my_vpn_bot/;
    const check = async (format: string, names: (res: Json) => string[]) => {
      const res = await get(expired.subscription_token, { 'accept-language': 'en' }, `?format=${format}`);
      assert.equal(res.status, 200, format);
      const expire = Number(/expire=(\d+)/.exec(res.headers.get('subscription-userinfo') ?? '')?.[1]);
      assert.ok(expire * 1000 < Date.now(), `${format}: expire is in the past`);
      const list = names(res);
      assert.equal(list.length, 1, format);
      assert.match(list[0], /Subscription expired/, format);
      assert.match(list[0], renew, format);
    };
    await check('base64', (r) => [parseVlessLink(Buffer.from(r.text, 'base64').toString()).remark]);
    await check('singbox', (r) =>
      r.body.outbounds.filter((o: Json) => o.type === 'vless').map((o: Json) => o.tag),
    );
    await check('clash', (r) => parseYaml(r.text).proxies.map((p: Json) => p.name));
    await check('xray', (r) => r.body.map((c: Json) => c.remarks));

    // No Accept-Language (a VPN client): the user's bot language (en in the fixtures).
    const plain = await get(expired.subscription_token, { 'user-agent': 'v2rayNG/1.9.44' });
    assert.match(parseVlessLink(Buffer.from(plain.text, 'base64').toString()).remark, /Subscription expired/);

    const page = await get(expired.subscription_token, { accept: BROWSER_ACCEPT, 'accept-language': 'en' });
    assert.match(page.text, /data-state="expired"/);
    assert.match(page.text, /Expired/);
  });

  it('404 for unknown or malformed tokens, and no token in any log line, with or without a query', async () => {
    assert.equal((await get('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', {}, '?format=html')).status, 404);
    assert.equal((await get('short')).status, 404);
    await get(active.subscription_token, {}, '?format=nope');
    const logged = JSON.stringify(api.logs);
    assert.ok(logged.includes('/sub/[redacted]'), 'the request was logged, redacted');
    assert.ok(!logged.includes(active.subscription_token), 'token never logged');
    assert.ok(!logged.includes('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'unknown tokens are not logged either');
  });
});

describe('api: /sub in the OpenAPI document', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('documents the formats and every subscription header', async () => {
    const { body: doc } = await api.call('GET', '/openapi.json', { token: null });
    const op = doc.paths['/sub/{token}'].get;
    const format = op.parameters.find((p: Json) => p.name === 'format');
    assert.deepEqual(
      [format.in, format.required, format.schema.enum],
      ['query', false, ['base64', 'singbox', 'clash', 'xray', 'html']],
    );
    assert.deepEqual(Object.keys(op.responses['200'].headers).sort(), [
      'content-disposition',
      'profile-title',
      'profile-update-interval',
      'profile-web-page-url',
      'subscription-userinfo',
      'support-url',
    ]);
  });
});
