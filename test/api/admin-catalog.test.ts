import assert from 'node:assert/strict';
import { insertNode, insertSubscription, insertTariff, insertUser, uniqueTelegramId } from './fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApi } from './harness';

const admin = { token: ADMIN_TOKEN };
const nodeBody = (name: string) => ({
  name,
  host: 'de1.vpn.example',
  port: 443,
  location: 'de',
  country_code: 'DE',
  capacity: 200,
  driver: 'agent',
  agent_url: 'https://de1.vpn.example:7443',
  agent_token: 'super-secret-agent-token',
  reality: { public_key: 'pbk', short_id: '0123456789abcdef', server_name: 'www.microsoft.com' },
});

describe('api: admin tariffs and nodes', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('creates tariffs from duration_days or ISO-8601 durations, prices normalised to 2 decimals', async () => {
    const month = await api.call('POST', '/api/v1/admin/tariffs', {
      ...admin,
      body: { slug: 'month', name: 'Month', price: 199, currency: 'RUB', duration_days: 30, star_price: 100 },
    });
    assert.equal(month.status, 201);
    assert.deepEqual(
      [month.body.price, month.body.duration_seconds, month.body.duration_days, month.body.is_active],
      ['199.00', 2_592_000, 30, true],
    );
    for (const [duration, seconds] of [
      ['PT1H', 3600],
      ['PT2M', 120],
      ['P30D', 2_592_000],
    ] as const) {
      const res = await api.call('POST', '/api/v1/admin/tariffs', {
        ...admin,
        body: {
          slug: `d-${duration.toLowerCase()}`,
          name: duration,
          price: '9.9',
          currency: 'RUB',
          duration,
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual([res.body.duration_seconds, res.body.price], [seconds, '9.90']);
    }
    const listed = await api.call('GET', '/api/v1/admin/tariffs', admin);
    assert.equal(listed.body.tariffs.length, 4);
  });

  it('refuses bad tariffs with 422 naming the field, and a duplicate slug with 409', async () => {
    const base = { slug: 'x1', name: 'X', price: '10.00', currency: 'RUB', duration_days: 1 };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, price: '10.001' }, 'price'],
      [{ ...base, price: -5 }, 'price'],
      [{ ...base, duration_days: undefined }, 'duration_days'],
      [{ ...base, duration_days: undefined, duration: 'P1X' }, 'duration'],
      [{ ...base, currency: 'rub' }, 'currency'],
      [{ ...base, slug: 'Bad Slug' }, 'slug'],
    ];
    for (const [body, field] of cases) {
      const res = await api.call('POST', '/api/v1/admin/tariffs', { ...admin, body });
      assert.deepEqual([res.status, res.body.field], [422, field], JSON.stringify(body));
    }
    const dup = await api.call('POST', '/api/v1/admin/tariffs', {
      ...admin,
      body: { ...base, slug: 'month' },
    });
    assert.deepEqual([dup.status, dup.body.error], [409, 'slug_taken']);
  });

  it('patches a tariff (404 for an unknown id)', async () => {
    const t = await insertTariff(api.orm);
    const res = await api.call('PATCH', `/api/v1/admin/tariffs/${t.id}`, {
      ...admin,
      body: { price: '249.90', duration: 'PT1H', is_active: false },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      [res.body.price, res.body.duration_seconds, res.body.is_active],
      ['249.90', 3600, false],
    );
    const missing = await api.call('PATCH', '/api/v1/admin/tariffs/999999', {
      ...admin,
      body: { name: 'x' },
    });
    assert.equal(missing.status, 404);
  });

  it('manages nodes without ever returning their secrets', async () => {
    const created = await api.call('POST', '/api/v1/admin/nodes', { ...admin, body: nodeBody('de-1') });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.has_agent_token, true);
    const ssh = await api.call('POST', '/api/v1/admin/nodes', {
      ...admin,
      body: {
        ...nodeBody('de-2'),
        driver: 'ssh',
        agent_url: undefined,
        agent_token: undefined,
        ssh: {
          host: 'de2',
          port: 22,
          username: 'root',
          private_key: '-----BEGIN OPENSSH PRIVATE KEY-----xyz',
          host_key: 'ssh-ed25519 AAAA',
        },
      },
    });
    assert.equal(ssh.status, 201, JSON.stringify(ssh.body));
    assert.deepEqual(ssh.body.ssh, { host: 'de2', port: 22, username: 'root', host_key: 'ssh-ed25519 AAAA' });

    const list = await api.call('GET', '/api/v1/admin/nodes', admin);
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes('super-secret-agent-token'), 'agent token never returned');
    assert.ok(!list.text.includes('PRIVATE KEY'), 'ssh private key never returned');

    const noToken = await api.call('POST', '/api/v1/admin/nodes', {
      ...admin,
      body: { ...nodeBody('de-3'), agent_token: undefined },
    });
    assert.deepEqual([noToken.status, noToken.body.field], [422, 'agent_token']);
    const badCountry = await api.call('POST', '/api/v1/admin/nodes', {
      ...admin,
      body: { ...nodeBody('de-3'), country_code: 'Germany' },
    });
    assert.deepEqual([badCountry.status, badCountry.body.field], [422, 'country_code']);
    const dup = await api.call('POST', '/api/v1/admin/nodes', { ...admin, body: nodeBody('de-1') });
    assert.equal(dup.status, 409);

    const disabled = await api.call('PATCH', `/api/v1/admin/nodes/${created.body.id}`, {
      ...admin,
      body: { status: 'disabled', capacity: 10, reality: { short_id: 'ab' } },
    });
    assert.equal(disabled.status, 200);
    assert.deepEqual(
      [disabled.body.status, disabled.body.capacity, disabled.body.reality.short_id],
      ['disabled', 10, 'ab'],
    );
    assert.equal(disabled.body.reality.public_key, 'pbk');
  });

  it('deletes an idle node, refuses one with active subscriptions (409), disables one with history', async () => {
    const idle = await insertNode(api.orm);
    const del = await api.call('DELETE', `/api/v1/admin/nodes/${idle.id}`, admin);
    assert.deepEqual(del.body, { id: idle.id, deleted: true, status: 'deleted' });
    assert.equal((await api.call('DELETE', `/api/v1/admin/nodes/${idle.id}`, admin)).status, 404);

    const busy = await insertNode(api.orm);
    const user = await insertUser(api.orm, uniqueTelegramId());
    const tariff = await insertTariff(api.orm);
    const sub = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: busy.id,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    const refused = await api.call('DELETE', `/api/v1/admin/nodes/${busy.id}`, admin);
    assert.deepEqual([refused.status, refused.body.error], [409, 'node_in_use']);

    await api.orm.em
      .getConnection()
      .execute(`update subscriptions set status = 'expired' where id = ?`, [sub.id]);
    const historic = await api.call('DELETE', `/api/v1/admin/nodes/${busy.id}`, admin);
    assert.deepEqual(historic.body, { id: busy.id, deleted: false, status: 'disabled' });
  });
});
