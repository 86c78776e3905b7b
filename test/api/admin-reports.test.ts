import assert from 'node:assert/strict';
import {
  insertNode,
  insertPayment,
  insertSubscription,
  insertTariff,
  insertUser,
  uniqueTelegramId,
} from './fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApi } from './harness';

const admin = { token: ADMIN_TOKEN };
const DAY = 86_400_000;

describe('api: admin stats and users', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('reports users, active subscriptions, revenue by day and month, conversion and load per node', async () => {
    const sql = (q: string, p: unknown[] = []) => api.orm.em.getConnection().execute(q, p);
    const tariff = await insertTariff(api.orm);
    const node = await insertNode(api.orm, 'stats-node');
    const buyer = await insertUser(api.orm, uniqueTelegramId());
    const browser = await insertUser(api.orm, uniqueTelegramId());
    await insertUser(api.orm, uniqueTelegramId());
    await sql(
      `insert into catalog_views (user_id, created_at) values (?, now() - interval '1 hour'), (?, now()), (?, now())`,
      [buyer.id, browser.id, browser.id],
    );
    const now = new Date();
    await insertPayment(api.orm, {
      userId: buyer.id,
      tariffId: tariff.id,
      status: 'succeeded',
      amount: '199.00',
      paidAt: now,
    });
    await insertPayment(api.orm, {
      userId: buyer.id,
      tariffId: tariff.id,
      status: 'succeeded',
      amount: '100.00',
      currency: 'XTR',
      provider: 'stars',
      paidAt: now,
    });
    await insertPayment(api.orm, {
      userId: buyer.id,
      tariffId: tariff.id,
      status: 'refunded',
      amount: '199.00',
      paidAt: now,
    });
    await insertPayment(api.orm, { userId: browser.id, tariffId: tariff.id, status: 'canceled' });
    await insertSubscription(api.orm, {
      userId: buyer.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt: new Date(Date.now() + DAY),
    });

    const res = await api.call('GET', '/api/v1/admin/stats', admin);
    assert.equal(res.status, 200);
    const s = res.body;
    assert.deepEqual([s.users, s.active_subscriptions, s.timezone], [3, 1, 'UTC']);
    const rub = { currency: 'RUB', amount: '199.00', payments: 1 };
    const xtr = { currency: 'XTR', amount: '100.00', payments: 1 };
    assert.deepEqual(s.revenue.today, [rub, xtr]);
    assert.deepEqual(s.revenue.this_month, [rub, xtr]);
    assert.deepEqual(s.revenue.by_day, [
      { date: now.toISOString().slice(0, 10), ...rub },
      { date: now.toISOString().slice(0, 10), ...xtr },
    ]);
    assert.equal(s.revenue.by_month[0].month, now.toISOString().slice(0, 7));
    assert.deepEqual(s.conversion, { catalog_viewers: 2, buyers: 1, rate: 0.5 });
    assert.deepEqual(
      s.nodes.map((n: { name: string; active_subscriptions: number }) => [n.name, n.active_subscriptions]),
      [['stats-node', 1]],
    );

    const moscow = await api.call('GET', '/api/v1/admin/stats?tz=Europe/Moscow', admin);
    assert.equal(moscow.body.timezone, 'Europe/Moscow');
    const bad = await api.call('GET', '/api/v1/admin/stats?tz=Mars/Olympus', admin);
    assert.deepEqual([bad.status, bad.body.field], [422, 'tz']);
  });

  it('shows one user with subscriptions and payments, finds users by username, 404s unknown ones', async () => {
    const tg = uniqueTelegramId();
    const user = await insertUser(api.orm, tg, 'Carol_Admin');
    const tariff = await insertTariff(api.orm);
    const node = await insertNode(api.orm);
    await insertPayment(api.orm, { userId: user.id, tariffId: tariff.id, status: 'succeeded' });
    await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt: new Date(Date.now() + DAY),
    });

    const res = await api.call('GET', `/api/v1/admin/users/${tg}`, admin);
    assert.equal(res.status, 200);
    assert.equal(res.body.user.telegram_id, tg);
    assert.equal(res.body.subscriptions.length, 1);
    assert.equal(res.body.payments.length, 1);
    assert.equal(res.body.payments[0].status, 'succeeded');
    assert.equal((await api.call('GET', '/api/v1/admin/users/77', admin)).status, 404);

    const found = await api.call('GET', '/api/v1/admin/users?username=@carol', admin);
    assert.deepEqual(
      found.body.users.map((u: { telegram_id: number }) => u.telegram_id),
      [tg],
    );
    const none = await api.call('GET', '/api/v1/admin/users?username=zz_%25', admin);
    assert.deepEqual(none.body.users, []);
  });
});
