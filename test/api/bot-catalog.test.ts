import assert from 'node:assert/strict';
import { insertTariff, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApi } from './harness';

describe('api: users and tariffs (bot-facing)', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('registers a user (201), then refreshes the profile (200), keeping the first referral', async () => {
    const tg = uniqueTelegramId();
    const first = await api.call('POST', '/api/v1/users/register', {
      body: {
        telegram_id: tg,
        username: 'alice',
        first_name: 'Alice',
        language_code: 'en-US',
        referral: 'promo1',
      },
    });
    assert.equal(first.status, 201);
    assert.deepEqual(Object.keys(first.body).sort(), ['telegram_id', 'user_id']);
    assert.equal(first.body.telegram_id, tg);

    const again = await api.call('POST', '/api/v1/users/register', {
      body: {
        telegram_id: String(tg),
        username: 'alice2',
        last_name: 'A',
        language_code: 'ru',
        referral: 'other',
      },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.user_id, first.body.user_id);
    const [row] = await api.orm.em.getConnection().execute(`select * from users where telegram_id = ?`, [tg]);
    assert.deepEqual(
      [row.username, row.first_name, row.last_name, row.language, row.referral],
      ['alice2', null, 'A', 'ru', 'promo1'],
    );
  });

  it('lists active tariffs in display order with prices as strings, and records catalog views', async () => {
    await insertTariff(api.orm, { slug: 'b-second', price: '499', order: 2, seconds: 90 * 86_400 });
    await insertTariff(api.orm, {
      slug: 'a-first',
      price: '199.5',
      order: 1,
      seconds: 3600,
      starPrice: null,
    });
    await insertTariff(api.orm, { slug: 'hidden', order: 0, active: false });
    const tg = uniqueTelegramId();
    await api.call('POST', '/api/v1/users/register', { body: { telegram_id: tg } });

    const res = await api.call('GET', `/api/v1/tariffs?telegram_id=${tg}`);
    assert.equal(res.status, 200);
    const slugs = res.body.tariffs.map((t: { slug: string }) => t.slug);
    assert.deepEqual(slugs, ['a-first', 'b-second']);
    const [hourly, quarter] = res.body.tariffs;
    assert.deepEqual(
      {
        price: hourly.price,
        days: hourly.duration_days,
        secs: hourly.duration_seconds,
        stars: hourly.star_price,
      },
      { price: '199.50', days: 3600 / 86_400, secs: 3600, stars: null },
    );
    assert.equal(quarter.duration_days, 90);
    for (const key of ['id', 'slug', 'name', 'description', 'price', 'currency', 'duration_days'])
      assert.ok(key in quarter, key);

    await api.call('GET', '/api/v1/tariffs');
    const [views] = await api.orm.em.getConnection().execute(`select count(*)::int as n from catalog_views`);
    assert.equal(views.n, 1, 'one view: the anonymous call records nothing');
  });
});
