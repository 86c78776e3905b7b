import assert from 'node:assert/strict';
import { migrate } from '../../infra/db/orm';
import { freshDatabase } from '../support/services';
import { ADMIN_TOKEN, type ApiHarness, startApi } from './harness';

const admin = { token: ADMIN_TOKEN };
const base = { name: 'Plan', price: '299.00', currency: 'RUB', duration_days: 30 };

// Plan limits on tariffs (issue 12, item 1): the operator sets them, the bot reads them, old tariffs stay valid.
describe('api: tariff plan limits', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('stores traffic, device and location limits, and the bot catalog shows them', async () => {
    const res = await api.call('POST', '/api/v1/admin/tariffs', {
      ...admin,
      body: {
        ...base,
        slug: 'duo',
        traffic_limit_bytes: 50 * 2 ** 30,
        traffic_reset: 'monthly',
        device_limit: 3,
        locations: ['nl', 'de'],
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      [res.body.traffic_limit_bytes, res.body.traffic_reset, res.body.device_limit, res.body.locations],
      [50 * 2 ** 30, 'monthly', 3, ['nl', 'de']],
    );
    assert.equal(res.body.location, 'nl', 'v1 location is the first of locations');
    assert.equal(res.body.kind, 'subscription');

    const catalog = await api.call('GET', '/api/v1/tariffs');
    const duo = catalog.body.tariffs.find((t: { slug: string }) => t.slug === 'duo');
    assert.deepEqual(
      [duo.device_limit, duo.locations, duo.traffic_limit_bytes],
      [3, ['nl', 'de'], 50 * 2 ** 30],
    );

    const patched = await api.call('PATCH', `/api/v1/admin/tariffs/${res.body.id}`, {
      ...admin,
      body: { location: 'fi', device_limit: null, traffic_limit_bytes: null },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(
      [
        patched.body.locations,
        patched.body.location,
        patched.body.device_limit,
        patched.body.traffic_limit_bytes,
      ],
      [['fi'], 'fi', null, null],
      'the v1 location field still works and replaces the list',
    );
  });

  it('sells traffic packs only with a size, and refuses contradictory or bad limits with 422', async () => {
    const pack = await api.call('POST', '/api/v1/admin/tariffs', {
      ...admin,
      body: { ...base, slug: 'pack-10', kind: 'traffic_pack', traffic_pack_bytes: 10 * 2 ** 30 },
    });
    assert.equal(pack.status, 201, JSON.stringify(pack.body));
    assert.deepEqual([pack.body.kind, pack.body.traffic_pack_bytes], ['traffic_pack', 10 * 2 ** 30]);

    const cases: Array<[Record<string, unknown>, string]> = [
      [{ kind: 'traffic_pack' }, 'traffic_pack_bytes'],
      [{ kind: 'subscription', traffic_pack_bytes: 1024 }, 'traffic_pack_bytes'],
      [{ device_limit: 0 }, 'device_limit'],
      [{ device_limit: 101 }, 'device_limit'],
      [{ traffic_limit_bytes: -1 }, 'traffic_limit_bytes'],
      [{ traffic_reset: 'weekly' }, 'traffic_reset'],
      [{ locations: ['nl', 'NL'] }, 'locations'],
      [{ locations: ['nl', 'de'], location: 'de' }, 'location'],
    ];
    for (const [extra, field] of cases) {
      const res = await api.call('POST', '/api/v1/admin/tariffs', {
        ...admin,
        body: { ...base, slug: `bad-${field.length}-${Object.keys(extra).length}`, ...extra },
      });
      assert.equal(res.status, 422, `${JSON.stringify(extra)} → ${res.status} ${res.text}`);
      assert.equal(res.body.field, field, JSON.stringify(extra));
    }
    // A pack turned into a subscription loses its size instead of breaking the shape check.
    const back = await api.call('PATCH', `/api/v1/admin/tariffs/${pack.body.id}`, {
      ...admin,
      body: { kind: 'subscription' },
    });
    assert.equal(back.status, 200, back.text);
    assert.equal(back.body.traffic_pack_bytes, null);
  });

  it('keeps tariffs that existed before the migration valid: unlimited, their one location', async () => {
    const { orm } = await freshDatabase();
    const conn = orm.em.getConnection();
    await orm.getMigrator().down({ to: 'Migration20261202000100_payment_purpose' });
    await conn.execute(
      `insert into tariffs (slug, name, price, duration_seconds, location) values ('old-nl', 'Old', 100, 60, 'nl'), ('old-any', 'Any', 100, 60, null)`,
    );
    await migrate(orm);
    const rows = await conn.execute(
      `select slug, locations, traffic_limit_bytes, device_limit, traffic_reset, kind from tariffs order by slug`,
    );
    assert.deepEqual(rows, [
      {
        slug: 'old-any',
        locations: [],
        traffic_limit_bytes: null,
        device_limit: null,
        traffic_reset: 'never',
        kind: 'subscription',
      },
      {
        slug: 'old-nl',
        locations: ['nl'],
        traffic_limit_bytes: null,
        device_limit: null,
        traffic_reset: 'never',
        kind: 'subscription',
      },
    ]);
  });
});
