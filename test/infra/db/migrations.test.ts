import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { freshDatabase } from '../../support/services';
import { migrate } from '../../../infra/db/orm';
import { seedTariffs } from '../../../infra/db/seed';

describe('database schema', () => {
  it('applies migrations to an empty database, and a second run changes nothing', async () => {
    const { orm } = await freshDatabase();
    const conn = orm.em.getConnection();
    const tables = await conn.execute(
      `select table_name from information_schema.tables where table_schema = 'public'`,
    );
    const names = tables.map((r) => String(r.table_name));
    for (const t of ['users', 'tariffs', 'payments', 'subscriptions', 'subscription_events', 'vpn_nodes']) {
      assert.ok(names.includes(t), `${t} exists`);
    }
    assert.deepEqual(await migrate(orm), []);
    assert.equal(await seedTariffs(orm), 3);
    assert.equal(await seedTariffs(orm), 0, 'seeding twice adds nothing');
  });

  it('rejects a second active subscription for one user, but keeps history of expired ones', async () => {
    const { orm } = await freshDatabase();
    const conn = orm.em.getConnection();
    await seedTariffs(orm);
    const [user] = await conn.execute(`insert into users (telegram_id) values (42) returning id`);
    const [node] = await conn.execute(
      `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, reality_public_key, reality_server_name)
       values ('n1', '127.0.0.1', 443, 'nl', 'NL', 10, 'agent', 'pbk', 'example.com') returning id`,
    );
    const insertSub = (status: string) =>
      conn.execute(
        `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
         values (?, ?, 1, ?, ?, ?, ?, ?, now(), now() + interval '1 day')`,
        [randomUUID(), user.id, node.id, status, randomUUID(), 'e', randomUUID()],
      );
    await insertSub('expired');
    await insertSub('active');
    await assert.rejects(insertSub('active'), /subscriptions_one_active_per_user/);
  });

  it('refuses floats for money and keeps events append-only', async () => {
    const { orm } = await freshDatabase();
    const conn = orm.em.getConnection();
    await assert.rejects(
      conn.execute(`insert into tariffs (slug, name, price, duration_seconds) values ('x', 'x', 0, 60)`),
      /check/,
    );
    const [ev] = await conn.execute(`insert into subscription_events (type) values ('note') returning id`);
    await assert.rejects(
      conn.execute(`update subscription_events set type = 'x' where id = ?`, [ev.id]),
      /append-only/,
    );
    const [{ price }] = await conn.execute(
      `insert into tariffs (slug, name, price, duration_seconds) values ('y', 'y', 0.1 + 0.2, 60) returning price`,
    );
    assert.equal(price, '0.30');
  });
});
