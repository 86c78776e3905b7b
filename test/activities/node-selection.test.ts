import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createDatabaseActivities } from '../../activities/database';
import { createLogger } from '../../infra/logger';
import { freshDatabase } from '../support/services';
import { insertNode } from './node-fixture';

// selectNode on a real PostgreSQL: healthy, under capacity, in the tariff's location, least loaded first.
describe('node selection (selectNode)', function () {
  this.timeout(60_000);
  let orm: MikroORM;
  let db: ReturnType<typeof createDatabaseActivities>;
  let tariffId: number;
  let telegramId = 910_000;

  const sql = (q: string, p: unknown[] = []) => orm.em.getConnection().execute(q, p);
  const select = (location: string | null = null) => db.selectNode({ location });

  /** Subscriptions on a node, each for its own user (one active subscription per user). */
  async function subscriptions(nodeId: string, status: 'active' | 'revoking' | 'expired', count: number) {
    for (let i = 0; i < count; i++) {
      const [user] = await sql(`insert into users (telegram_id) values (?) returning id`, [++telegramId]);
      const id = randomUUID();
      await sql(
        `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token,
           starts_at, expires_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, now(), now() + interval '1 day')`,
        [id, user.id, tariffId, nodeId, status, randomUUID(), id, randomBytes(16).toString('hex')],
      );
    }
  }

  before(async () => {
    ({ orm } = await freshDatabase());
    db = createDatabaseActivities({ orm, logger: createLogger('test-selection') });
    const [t] = await sql(
      `insert into tariffs (slug, name, price, duration_seconds) values ('month', 'month', '10.00', 2592000) returning id`,
    );
    tariffId = t.id;
  });

  beforeEach(async () => {
    await sql(`delete from subscriptions`);
    await sql(`delete from vpn_nodes`);
  });

  it('returns null when there is no node at all, or only nodes of capacity 0', async () => {
    assert.equal(await select(), null);
    await insertNode(orm, { capacity: 0 });
    assert.equal(await select(), null);
    assert.equal(await select('nl'), null);
  });

  it('skips nodes whose client count has reached capacity', async () => {
    const full = await insertNode(orm, { name: 'a-full', capacity: 2, clientCount: 2 });
    const over = await insertNode(orm, { name: 'b-over', capacity: 2, clientCount: 5 });
    const roomy = await insertNode(orm, { name: 'c-roomy', capacity: 10, clientCount: 9 });
    assert.equal(await select(), roomy, 'the 90% node is chosen: the 100% ones are full');
    await sql(`update vpn_nodes set client_count = 10 where id = ?`, [roomy]);
    assert.equal(await select(), null, 'every node full → null');
    await sql(`update vpn_nodes set client_count = 1 where id = ?`, [full]);
    assert.equal(await select(), full);
    assert.notEqual(await select(), over);
  });

  it('counts active subscriptions even when client_count is stale, and ignores expired ones', async () => {
    // client_count says empty, but two subscriptions are active on it: full.
    const stale = await insertNode(orm, { name: 'a-stale', capacity: 2, clientCount: 0 });
    await subscriptions(stale, 'active', 2);
    // 1 active of 2 (50 %); three expired subscriptions do not occupy a slot.
    const half = await insertNode(orm, { name: 'b-half', capacity: 2, clientCount: 0 });
    await subscriptions(half, 'active', 1);
    await subscriptions(half, 'expired', 3);
    const other = await insertNode(orm, { name: 'c-other', capacity: 10, clientCount: 3 });

    assert.equal(
      await select(),
      other,
      '30 % beats the half-full node, whose load counts its active subscription',
    );
    await sql(`update vpn_nodes set client_count = 6 where id = ?`, [other]);
    assert.equal(await select(), half, '50 % beats 60 %; expired subscriptions are not load');
    await subscriptions(half, 'active', 1);
    assert.equal(await select(), other, 'two active subscriptions fill the capacity-2 node');
    await sql(`update vpn_nodes set client_count = 10 where id = ?`, [other]);
    assert.equal(await select(), null);
  });

  it('skips down and disabled nodes, however empty', async () => {
    const down = await insertNode(orm, { name: 'a-down', status: 'down', clientCount: 0 });
    const disabled = await insertNode(orm, { name: 'b-disabled', status: 'disabled', clientCount: 0 });
    const busy = await insertNode(orm, { name: 'c-busy', capacity: 10, clientCount: 8 });
    assert.equal(await select(), busy);
    assert.equal(await select('nl'), busy);
    await sql(`update vpn_nodes set status = 'down' where id = ?`, [busy]);
    assert.equal(await select(), null, 'only down/disabled nodes left → null');
    await sql(`update vpn_nodes set status = 'up' where id = ?`, [down]);
    assert.equal(await select(), down, 'a recovered node is selectable again');
    assert.notEqual(await select(), disabled);
  });

  it("honours the tariff's location; a null location picks any", async () => {
    const nl = await insertNode(orm, { name: 'nl-1', location: 'nl', capacity: 10, clientCount: 1 });
    const de = await insertNode(orm, { name: 'de-1', location: 'de', capacity: 10, clientCount: 5 });
    const deFull = await insertNode(orm, { name: 'de-2', location: 'de', capacity: 10, clientCount: 10 });
    assert.equal(await select('de'), de, 'the de node, though nl is emptier');
    assert.equal(await select('nl'), nl);
    assert.equal(await select(null), nl, 'no location: least loaded anywhere');
    assert.equal(await select('fr'), null, 'no node in that location → null, never another country');

    await sql(`update vpn_nodes set client_count = 10 where id = ?`, [de]);
    assert.equal(await select('de'), null, 'all de nodes full → null, no fallback to nl');
    await sql(`update vpn_nodes set status = 'down' where id = ?`, [nl]);
    assert.equal(await select('nl'), null);
    assert.equal(await select(null), null);
    assert.ok(deFull);
  });

  it('picks the least loaded node by load ratio, not by raw count', async () => {
    const small = await insertNode(orm, { name: 'a-small', capacity: 10, clientCount: 2 }); // 20 %, 2 clients
    const big = await insertNode(orm, { name: 'b-big', capacity: 1000, clientCount: 100 }); // 10 %, 100 clients
    const mid = await insertNode(orm, { name: 'c-mid', capacity: 100, clientCount: 15 }); // 15 %
    assert.equal(await select(), big);
    await sql(`update vpn_nodes set client_count = 300 where id = ?`, [big]); // 30 %
    assert.equal(await select(), mid);
    await sql(`update vpn_nodes set client_count = 25 where id = ?`, [mid]); // 25 %
    assert.equal(await select(), small);
  });

  it('filling nodes one client at a time spreads the load by capacity and never overfills', async () => {
    const a = await insertNode(orm, { name: 'a', capacity: 3 });
    const b = await insertNode(orm, { name: 'b', capacity: 6 });
    const down = await insertNode(orm, { name: 'c-down', capacity: 50, status: 'down' });
    const picks: string[] = [];
    for (;;) {
      const id = await select();
      if (!id) break;
      picks.push(id);
      await sql(`update vpn_nodes set client_count = client_count + 1 where id = ?`, [id]);
      assert.ok(picks.length <= 9, 'never more picks than total capacity');
    }
    assert.equal(picks.filter((p) => p === a).length, 3);
    assert.equal(picks.filter((p) => p === b).length, 6);
    assert.ok(!picks.includes(down));
    // Proportional: after the first 3 picks, b has 2 and a has 1 (or the reverse tie-break), never 3-0.
    const firstThree = picks.slice(0, 3);
    assert.ok(firstThree.includes(a) && firstThree.includes(b), `spread: ${firstThree}`);
  });
});
