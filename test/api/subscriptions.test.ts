import assert from 'node:assert/strict';
import { parseVlessLink } from '../../infra/xray/link';
import {
  insertNode,
  insertPayment,
  insertSubscription,
  insertTariff,
  insertUser,
  uniqueTelegramId,
} from './fixtures';
import { type ApiHarness, startApi } from './harness';

const DAY = 86_400_000;

describe('api: subscription status, config and /sub', () => {
  let api: ApiHarness;
  let node: Record<string, string>;
  let tariff: Record<string, number>;
  before(async () => {
    api = await startApi();
    node = await insertNode(api.orm, 'nl-1');
    tariff = await insertTariff(api.orm);
  });
  after(() => api.close());

  it('404s status and config for an unknown user; config 404s without an active subscription', async () => {
    assert.equal((await api.call('GET', '/api/v1/subscriptions/12345/status')).status, 404);
    assert.equal((await api.call('GET', '/api/v1/subscriptions/12345/config')).status, 404);
    const tg = uniqueTelegramId();
    const user = await insertUser(api.orm, tg);
    await insertPayment(api.orm, { userId: user.id, tariffId: tariff.id, status: 'canceled' });
    const status = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.deepEqual(status.body, {
      has_active_subscription: false,
      subscription_id: null,
      status: null,
      tariff_name: null,
      days_remaining: 0,
      end_date: null,
      auto_renewal: false,
      last_payment_status: 'canceled',
      traffic_used_bytes: 0,
      traffic_limit_bytes: null,
      suspended: false,
      devices: 0,
      device_limit: null,
      locations: [],
      next_charge_at: null,
      auto_renewal_method: null,
      trial: { state: 'available', end_date: null, duration_seconds: 259200 },
    });
    const config = await api.call('GET', `/api/v1/subscriptions/${tg}/config`);
    assert.deepEqual([config.status, config.body.error], [404, 'no_active_subscription']);
  });

  it('reports an active subscription and hands out its key, subscription URL and QR', async () => {
    const tg = uniqueTelegramId();
    const user = await insertUser(api.orm, tg);
    const expiresAt = new Date(Date.now() + 2.5 * DAY);
    const sub = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt,
    });
    await insertPayment(api.orm, { userId: user.id, tariffId: tariff.id, status: 'succeeded' });

    const status = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.equal(status.status, 200);
    assert.equal(status.body.has_active_subscription, true);
    assert.equal(status.body.subscription_id, sub.id);
    assert.equal(status.body.days_remaining, 3, 'rounded up');
    assert.equal(status.body.end_date, expiresAt.toISOString());
    assert.equal(status.body.last_payment_status, 'succeeded');

    const config = await api.call('GET', `/api/v1/subscriptions/${tg}/config`);
    assert.equal(config.status, 200);
    const link = parseVlessLink(config.body.vless_url);
    assert.deepEqual(
      [link.uuid, link.host, link.port, link.publicKey, link.shortId, link.serverName, link.remark],
      [sub.client_uuid, 'nl1.vpn.example', 443, 'pbk-public-key', 'abcd', 'www.example.com', `nl-1-${tg}`],
    );
    assert.equal(config.body.subscription_url, `https://vpn.example/sub/${sub.subscription_token}`);
    assert.equal(Buffer.from(config.body.qr_png_base64, 'base64').subarray(1, 4).toString(), 'PNG');
  });

  it('serves /sub/<token>: links and userinfo while active, a placeholder once expired, 404 otherwise', async () => {
    const user = await insertUser(api.orm, uniqueTelegramId());
    const expiresAt = new Date(Date.now() + DAY);
    const active = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt,
    });
    const res = await api.call('GET', `/sub/${active.subscription_token}`, { token: null });
    assert.equal(res.status, 200);
    const links = Buffer.from(res.text, 'base64').toString().split('\n');
    assert.equal(links.length, 1);
    assert.equal(parseVlessLink(links[0]).uuid, active.client_uuid);
    assert.equal(
      res.headers.get('subscription-userinfo'),
      `upload=1024; download=2048; total=0; expire=${Math.floor(expiresAt.getTime() / 1000)}`,
    );
    for (const h of ['profile-update-interval', 'profile-title', 'content-disposition', 'support-url']) {
      assert.ok(res.headers.get(h), h);
    }

    const old = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      status: 'expired',
      expiresAt: new Date(Date.now() - DAY),
    });
    const expired = await api.call('GET', `/sub/${old.subscription_token}`, { token: null });
    assert.equal(expired.status, 200);
    // v2: one entry that cannot connect and whose name says what happened (test/api/sub.test.ts has more).
    const [placeholder] = Buffer.from(expired.text, 'base64').toString().split('\n');
    assert.match(parseVlessLink(placeholder).remark, /^⛔ /);
    const expire = Number(/expire=(\d+)/.exec(expired.headers.get('subscription-userinfo') ?? '')?.[1]);
    assert.ok(expire * 1000 < Date.now(), 'expire is in the past');

    assert.equal(
      (await api.call('GET', '/sub/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', { token: null })).status,
      404,
    );
    assert.equal((await api.call('GET', '/sub/short', { token: null })).status, 404);
    assert.ok(!JSON.stringify(api.logs).includes(active.subscription_token), 'tokens never logged');
  });
});
