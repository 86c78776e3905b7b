import assert from 'node:assert/strict';
import { createLogger } from '../../infra/logger';
import { createYooKassaClient } from '../../infra/yookassa/client';
import type { PurchaseSystem } from '../support/system';
import { uniqueTelegramId } from './fixtures';
import { ADMIN_TOKEN, type ApiHarness, METRICS_TOKEN, metricValue, startApiOnSystem } from './harness';
import { waitFor } from '../support/wait-for-value';

describe('promo codes: discounts priced at payment creation, free days, limits under concurrency', function () {
  this.timeout(240_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem();
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys);
    sys.yookassa.setWebhookUrl(`${api.url}/api/v1/payments/webhook`);
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  const sql = (q: string, p: unknown[] = []) => sys.orm.em.getConnection().execute(q, p);
  const newUser = async () => {
    const tg = uniqueTelegramId();
    const res = await api.call('POST', '/api/v1/users/register', {
      body: { telegram_id: tg, language: 'en' },
    });
    assert.ok([200, 201].includes(res.status), JSON.stringify(res.body));
    return tg;
  };
  const createCode = async (body: Record<string, unknown>) => {
    const res = await api.call('POST', '/api/v1/admin/promo-codes', { token: ADMIN_TOKEN, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const tariff = async (slug: string) => (await sql(`select * from tariffs where slug = ?`, [slug]))[0];
  const buy = (tg: number, body: Record<string, unknown>) =>
    api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1', ...body },
    });

  it('a percent code: the discounted amount reaches the YooKassa emulator, passes the webhook amount check, and a refund returns what was paid', async () => {
    await createCode({ code: 'save20', kind: 'percent', value: 20 });
    const tg = await newUser();
    const res = await buy(tg, { promo_code: 'SAVE20' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      [res.body.amount, res.body.list_price, res.body.discount, res.body.payment_status],
      ['159.20', '199.00', '39.80', 'pending'],
    );
    const [row] = await sql(`select * from payments where id = ?`, [res.body.payment_id]);
    assert.deepEqual([row.amount, row.list_price], ['159.20', '199.00']);
    const asked = sys.yookassa.payment(row.provider_payment_id);
    assert.deepEqual(asked.amount, { value: '159.20', currency: 'RUB' });

    sys.yookassa.pay(row.provider_payment_id); // the emulator's webhook → our webhook route → the workflow
    const result = await api.temporal.workflow.getHandle(res.body.workflow_id).result();
    assert.equal(result.outcome, 'granted');
    const [paid] = await sql(`select status, amount from payments where id = ?`, [res.body.payment_id]);
    assert.deepEqual([paid.status, paid.amount], ['succeeded', '159.20']);

    // A refund of the discounted purchase returns what was paid, not the list price.
    const { createPaymentActivities } =
      require('../../activities/payments') as typeof import('../../activities/payments');
    const payments = createPaymentActivities({
      orm: sys.orm,
      yookassa: createYooKassaClient({
        apiUrl: sys.yookassa.url,
        shopId: sys.shopId,
        secretKey: sys.secretKey,
        returnUrl: 'https://vpn.example/back',
        timeoutMs: 3000,
      }),
      telegram: null,
      returnUrl: 'https://vpn.example/back',
      logger: createLogger('promo-test'),
    });
    await payments.refundPayment({
      paymentId: res.body.payment_id,
      reason: 'test: refund a discounted purchase',
    });
    const refund = sys.yookassa.refunds().find((r) => r.payment_id === row.provider_payment_id);
    assert.deepEqual(refund?.amount, { value: '159.20', currency: 'RUB' });

    const list = await api.call('GET', '/api/v1/admin/promo-codes', { token: ADMIN_TOKEN });
    const stats = list.body.codes.find((c: { code: string }) => c.code === 'SAVE20').stats;
    assert.equal(stats.activations, 0, 'a refunded purchase no longer holds a use');
  });

  it('a Stars payment with a percent code asks for the discounted (rounded up) Stars', async () => {
    await createCode({ code: 'STARS50', kind: 'percent', value: 50 });
    const tg = await newUser();
    const t = await tariff('month-1');
    const res = await buy(tg, { provider: 'stars', promo_code: 'stars50' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.amount, `${Math.ceil(t.star_price / 2)}.00`);
    assert.equal(res.body.list_price, `${t.star_price}.00`);
  });

  it('a 100 % code grants with no payment: 201 succeeded, provider free, amount 0, then the key', async () => {
    await createCode({ code: 'FREE100', kind: 'percent', value: 100 });
    const tg = await newUser();
    const res = await buy(tg, { promo_code: 'free100' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      [
        res.body.payment_status,
        res.body.provider,
        res.body.amount,
        res.body.confirmation_url,
        res.body.discount,
      ],
      ['succeeded', 'free', '0.00', null, '199.00'],
    );
    const result = await api.temporal.workflow.getHandle(res.body.workflow_id).result();
    assert.equal(result.outcome, 'granted');
    const [row] = await sql(
      `select provider, amount, status, list_price, subscription_id from payments where id = ?`,
      [res.body.payment_id],
    );
    assert.deepEqual(
      [row.provider, row.amount, row.status, row.list_price],
      ['free', '0.00', 'succeeded', '199.00'],
    );
    assert.equal(row.subscription_id, result.subscriptionId);
    assert.equal(
      sys.yookassa.payments().filter((p) => p.metadata?.purchase_id === res.body.payment_id).length,
      0,
    );
    const config = await api.call('GET', `/api/v1/subscriptions/${tg}/config`);
    assert.match(config.body.vless_url, /^vless:\/\//);
  });

  it('an expired code, a wrong tariff, a used code and a price under the minimum each get their own answer', async () => {
    const month3 = await tariff('month-3');
    await createCode({ code: 'OLDCODE', kind: 'percent', value: 10, valid_until: '2020-01-01T00:00:00Z' });
    await createCode({ code: 'ONLY3M', kind: 'percent', value: 10, tariff_ids: [month3.id] });
    await createCode({ code: 'ONCE10', kind: 'percent', value: 10 });
    await createCode({ code: 'HUGEOFF', kind: 'amount', value: 198.5 });
    const tg = await newUser();
    const expired = await buy(tg, { promo_code: 'OLDCODE' });
    assert.deepEqual([expired.status, expired.body.error], [410, 'promo_expired']);
    const wrong = await buy(tg, { promo_code: 'ONLY3M' });
    assert.deepEqual([wrong.status, wrong.body.error], [409, 'promo_wrong_tariff']);
    const right = await buy(tg, { promo_code: 'ONLY3M', tariff_slug: 'month-3' });
    assert.equal(right.status, 201, JSON.stringify(right.body));
    const first = await buy(tg, { promo_code: 'ONCE10' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await buy(tg, { promo_code: 'ONCE10' });
    assert.deepEqual([second.status, second.body.error], [409, 'promo_used']);
    const unknown = await buy(tg, { promo_code: 'NOSUCHCODE' });
    assert.deepEqual([unknown.status, unknown.body.error], [404, 'promo_not_found']);
    const tiny = await buy(tg, { promo_code: 'HUGEOFF' });
    assert.deepEqual([tiny.status, tiny.body.error], [422, 'amount_below_minimum']);
    assert.match(tiny.body.message, /0\.50 RUB/);
    const redeemExpired = await api.call('POST', '/api/v1/promo/redeem', {
      body: { telegram_id: tg, code: 'oldcode' },
    });
    assert.deepEqual([redeemExpired.status, redeemExpired.body.error], [410, 'promo_expired']);
    // A switched-off code is unknown to users.
    const off = await api.call('PATCH', '/api/v1/admin/promo-codes/ONCE10', {
      token: ADMIN_TOKEN,
      body: { is_active: false },
    });
    assert.equal(off.status, 200);
    assert.equal(off.body.is_active, false);
  });

  it('50 concurrent redemptions of a 10-use free-days code → exactly 10, and one user redeeming twice at once → one', async () => {
    await createCode({ code: 'TENDAYS', kind: 'days', value: 10, max_uses: 10 });
    const users = await Promise.all(Array.from({ length: 50 }, () => newUser()));
    const answers = await Promise.all(
      users.map((tg) =>
        api.call('POST', '/api/v1/promo/redeem', { body: { telegram_id: tg, code: 'TENDAYS' } }),
      ),
    );
    const won = answers.filter((a) => a.status === 200);
    assert.equal(won.length, 10);
    for (const a of won) assert.deepEqual([a.body.kind, a.body.days_added], ['days', 10]);
    const lost = answers.filter((a) => a.status !== 200);
    assert.deepEqual([...new Set(lost.map((a) => `${a.status} ${a.body.error}`))], ['409 promo_exhausted']);
    const [count] = await sql(`select count(*)::int as n from promo_redemptions where code = 'TENDAYS'`);
    assert.equal(count.n, 10);

    await createCode({ code: 'TWICE', kind: 'days', value: 3 });
    const tg = await newUser();
    const same = await Promise.all(
      Array.from({ length: 6 }, () =>
        api.call('POST', '/api/v1/promo/redeem', { body: { telegram_id: tg, code: 'TWICE' } }),
      ),
    );
    assert.deepEqual(same.map((a) => a.status).sort(), [200, 409, 409, 409, 409, 409]);
    for (const a of same.filter((x) => x.status === 409)) assert.equal(a.body.error, 'promo_used');
    // The winners got their access (a new one: they had none).
    const result = await api.temporal.workflow.getHandle(won[0].body.workflow_id).result();
    assert.equal(result.outcome, 'activated');
    const days = (Date.parse(result.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 9.99 && days <= 10, `${days} days`);
  });

  it('a free-days code extends a running access (same key) and is counted in the code stats and /admin/stats', async () => {
    await createCode({ code: 'PLUS7', kind: 'days', value: 7 });
    const tg = await newUser();
    await createCode({ code: 'FREEMONTH', kind: 'percent', value: 100 });
    const bought = await buy(tg, { promo_code: 'FREEMONTH' });
    const first = await api.temporal.workflow.getHandle(bought.body.workflow_id).result();
    const redeem = await api.call('POST', '/api/v1/promo/redeem', {
      body: { telegram_id: tg, code: 'plus7' },
    });
    assert.equal(redeem.status, 200, JSON.stringify(redeem.body));
    const result = await api.temporal.workflow.getHandle(redeem.body.workflow_id).result();
    assert.equal(result.outcome, 'extended');
    assert.equal(result.subscriptionId, first.subscriptionId);
    assert.equal(Date.parse(result.expiresAt), Date.parse(first.expiresAt) + 7 * 86_400_000);
    await waitFor(
      // The activation is one photo with the key in its caption, then the extension message.
      async () => (sys.telegram.sentTo(tg).length >= 2 ? true : undefined),
      'activation and extension messages',
    );

    const check = await api.call('POST', '/api/v1/promo/redeem', {
      body: { telegram_id: tg, code: 'save20' },
    });
    assert.deepEqual([check.status, check.body.kind, check.body.value], [200, 'percent', '20.00']);

    const list = await api.call('GET', '/api/v1/admin/promo-codes', { token: ADMIN_TOKEN });
    const free = list.body.codes.find((c: { code: string }) => c.code === 'FREEMONTH').stats;
    assert.deepEqual(
      [free.activations, free.users, free.revenue, free.discount_given],
      [1, 1, '0.00', '199.00'],
    );
    const ten = list.body.codes.find((c: { code: string }) => c.code === 'TENDAYS').stats;
    assert.deepEqual([ten.activations, ten.users], [10, 10]);

    const stats = await api.call('GET', '/api/v1/admin/stats', { token: ADMIN_TOKEN });
    assert.equal(stats.status, 200);
    assert.ok(stats.body.growth.promo.activations >= 13, JSON.stringify(stats.body.growth));
    assert.ok(stats.body.growth.promo.discount_given.some((d: { currency: string }) => d.currency === 'RUB'));
    const metrics = await api.call('GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(metricValue(metrics.text, 'promo_activations{code="TENDAYS"}'), 10);
    assert.equal(metricValue(metrics.text, 'promo_activations{code="FREEMONTH"}'), 1);
    // The money a code gave away: a 100 % code on the 199.00 month, nothing taken.
    assert.equal(metricValue(metrics.text, 'promo_discount_rub{code="FREEMONTH"}'), 199);
    assert.equal(metricValue(metrics.text, 'promo_revenue_rub{code="FREEMONTH"}'), 0);
  });
});
