import assert from 'node:assert/strict';
import { insertNode, insertSubscription, insertTariff, insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApi } from './harness';

const DAY = 86_400_000;
const MiB = 1024 * 1024;

// Issue 12: usage shows in status and in /sub's subscription-userinfo; a suspended access's /sub says why;
// a traffic pack is only sold to someone with an access to add it to (no payment exists otherwise).
describe('api: traffic quota in status, /sub and payments/create', () => {
  let api: ApiHarness;
  const sql = (q: string, p: unknown[] = []) => api.orm.em.getConnection().execute(q, p);
  let tariff: Record<string, number>;
  let pack: Record<string, number>;
  let node: Record<string, string>;
  before(async () => {
    api = await startApi();
    node = await insertNode(api.orm, 'nl-q');
    tariff = await insertTariff(api.orm);
    await sql(`update tariffs set traffic_limit_bytes = ?, traffic_reset = 'monthly' where id = ?`, [
      10 * MiB,
      tariff.id,
    ]);
    pack = await insertTariff(api.orm, { slug: 'pack-5m', price: '49.00', starPrice: 25 });
    await sql(`update tariffs set kind = 'traffic_pack', traffic_pack_bytes = ? where id = ?`, [
      5 * MiB,
      pack.id,
    ]);
  });
  after(() => api.close());

  async function accessWith(usedUp: number, usedDown: number, extra = 0, suspended = false) {
    const tg = uniqueTelegramId();
    const user = await insertUser(api.orm, tg);
    const expiresAt = new Date(Date.now() + 10 * DAY);
    const sub = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt,
    });
    await sql(
      `update subscriptions set period_upload_bytes = ?, period_download_bytes = ?, upload_bytes = ?, download_bytes = ?,
              traffic_extra_bytes = ?, suspended_at = ? where id = ?`,
      [usedUp, usedDown, usedUp + 999, usedDown + 999, extra, suspended ? new Date() : null, sub.id],
    );
    return { tg, sub, expiresAt };
  }

  it('status: the period usage against the limit plus packs, and suspended', async () => {
    const { tg } = await accessWith(MiB, 3 * MiB, 5 * MiB, true);
    const res = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      [res.body.traffic_used_bytes, res.body.traffic_limit_bytes, res.body.suspended],
      [4 * MiB, 15 * MiB, true],
    );
  });

  it('/sub: userinfo upload/download of the period and total = allowance; suspended → a placeholder saying so', async () => {
    const { sub, expiresAt } = await accessWith(1_000, 2_000, MiB);
    const res = await api.call('GET', `/sub/${sub.subscription_token}`, {
      token: null,
      headers: { 'user-agent': 'v2rayNG/1.9.44', 'accept-language': 'en' },
    });
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get('subscription-userinfo'),
      `upload=1000; download=2000; total=${11 * MiB}; expire=${Math.floor(expiresAt.getTime() / 1000)}`,
    );
    await sql(`update subscriptions set suspended_at = now() where id = ?`, [sub.id]);
    const off = await api.call('GET', `/sub/${sub.subscription_token}`, {
      token: null,
      headers: { 'user-agent': 'v2rayNG/1.9.44', 'accept-language': 'en' },
    });
    const link = Buffer.from(off.text, 'base64').toString();
    assert.match(decodeURIComponent(link), /Traffic limit reached/);
    assert.match(link, /@0\.0\.0\.0:1/);
  });

  it('payments/create: a pack without an active access is 409 no_active_subscription; a pack is never sold as a subscription', async () => {
    const tg = uniqueTelegramId();
    await insertUser(api.orm, tg);
    const create = (body: Record<string, unknown>) => api.call('POST', '/api/v1/payments/create', { body });
    const none = await create({ telegram_id: tg, tariff_id: pack.id, provider: 'stars' });
    assert.deepEqual([none.status, none.body.error], [409, 'no_active_subscription']);
    const [{ n }] = await sql(
      `select count(*)::int as n from payments p join users u on u.id = p.user_id where u.telegram_id = ?`,
      [tg],
    );
    assert.equal(n, 0, 'nothing was charged');

    const { tg: owner } = await accessWith(0, 0);
    const wrong = await create({
      telegram_id: owner,
      tariff_id: pack.id,
      purpose: 'subscription',
      provider: 'stars',
    });
    assert.deepEqual([wrong.status, wrong.body.field], [422, 'purpose']);
    const notPack = await create({
      telegram_id: owner,
      tariff_id: tariff.id,
      purpose: 'traffic_pack',
      provider: 'stars',
    });
    assert.deepEqual([notPack.status, notPack.body.field], [422, 'tariff_id']);
  });
});
