import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/activity';
import { createDatabaseActivities } from '../../activities/database';
import { createNodeActivities } from '../../activities/nodes';
import { createLogger } from '../../infra/logger';
import { freshDatabase } from '../support/services';
import { type Closeable, killAllStarted, startTlsTarget } from '../support/xray';
import { insertNode, type LiveNode, nodeRow, startLiveNode } from './node-fixture';
import { Failure } from '../../workflows/failures';

const FAILURES_TO_DOWN = 3;

// Health and reconcile (checkNodes), addClient and removeClient on two real nodes: Xray + agent each.
describe('node health and reconcile on two real nodes', function () {
  this.timeout(60_000);
  let orm: MikroORM;
  let target: Closeable;
  let a: LiveNode;
  let b: LiveNode;
  let idA: string;
  let idB: string;
  let nodes: ReturnType<typeof createNodeActivities>;
  let db: ReturnType<typeof createDatabaseActivities>;
  const statuses: { name: string; up: boolean; clients: number }[] = [];

  const sql = (q: string, p: unknown[] = []) => orm.em.getConnection().execute(q, p);
  const check = () => nodes.checkNodes({ failuresToDown: FAILURES_TO_DOWN });
  const handAdd = async (node: LiveNode, email: string) =>
    assert.equal(
      (await node.agent.call('PUT', `/clients/${email}`, { uuid: randomUUID() })).status < 300,
      true,
    );
  const handRemove = async (node: LiveNode, email: string) =>
    assert.equal((await node.agent.call('DELETE', `/clients/${email}`)).status < 300, true);

  before(async () => {
    const [fresh, tls] = await Promise.all([freshDatabase(), startTlsTarget()]);
    orm = fresh.orm;
    target = tls;
    [a, b] = await Promise.all([startLiveNode(target), startLiveNode(target)]);
    idA = await insertNode(orm, {
      name: 'node-a',
      capacity: 4,
      agentUrl: a.agent.url,
      agentToken: a.agent.token,
    });
    idB = await insertNode(orm, {
      name: 'node-b',
      capacity: 4,
      agentUrl: b.agent.url,
      agentToken: b.agent.token,
    });
    nodes = createNodeActivities({ orm, onNodeStatus: (s) => statuses.push(s) });
    db = createDatabaseActivities({ orm, logger: createLogger('test-reconcile') });
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await target?.close();
    await killAllStarted();
  });

  it("sets each node's client_count to its real list, whatever drifted", async () => {
    for (const e of ['op-1', 'op-2', 'op-3']) await handAdd(a, e); // an operator added three by hand
    await handAdd(b, 'op-4');
    await sql(`update vpn_nodes set client_count = 7 where id = ?`, [idA]); // our count is stale (too high)

    assert.deepEqual(await check(), { up: 2, down: 0 });
    assert.equal((await nodeRow(orm, idA)).client_count, (await a.agent.clients()).length);
    assert.equal((await nodeRow(orm, idA)).client_count, 3);
    assert.equal((await nodeRow(orm, idB)).client_count, 1);
    assert.ok((await nodeRow(orm, idA)).last_health_check, 'the check is recorded');
    assert.deepEqual(
      statuses.slice(-2).sort((x, y) => x.name.localeCompare(y.name)),
      [
        { name: 'node-a', up: true, clients: 3 },
        { name: 'node-b', up: true, clients: 1 },
      ],
    );

    // Selection follows the reconciled counts: b (1/4) before a (3/4) …
    assert.equal(await db.selectNode({ location: null }), idB);
    // … until three more land on b by hand (4/4: full); the DB does not know yet.
    for (const e of ['op-5', 'op-6', 'op-7']) await handAdd(b, e);
    assert.equal(await db.selectNode({ location: null }), idB, 'stale count before the reconcile');
    await check();
    assert.equal((await nodeRow(orm, idB)).client_count, 4);
    assert.equal(await db.selectNode({ location: null }), idA, 'b is full after the reconcile');

    // Removals by hand are seen too.
    await handRemove(b, 'op-5');
    await handRemove(a, 'op-1');
    await check();
    assert.equal((await nodeRow(orm, idA)).client_count, (await a.agent.clients()).length);
    assert.equal((await nodeRow(orm, idB)).client_count, (await b.agent.clients()).length);
    assert.deepEqual(await a.agent.emails(), ['op-2', 'op-3']);
    assert.equal((await nodeRow(orm, idB)).client_count, 3);
  });

  it(`marks a node down only after ${FAILURES_TO_DOWN} consecutive failures, and up after one good check`, async () => {
    // b is the emptier node, so selection would choose it while it is up.
    await sql(`update vpn_nodes set capacity = 100 where id = ?`, [idA]);
    await sql(`update vpn_nodes set capacity = 1000 where id = ?`, [idB]);
    await check();
    assert.equal(await db.selectNode({ location: null }), idB);
    const bClients = await b.agent.emails();

    await b.agent.stop();
    for (let i = 1; i < FAILURES_TO_DOWN; i++) {
      assert.deepEqual(await check(), { up: 1, down: 1 });
      const row = await nodeRow(orm, idB);
      assert.equal(row.status, 'up', `still up after ${i} failure(s)`);
      assert.equal(row.consecutive_failures, i);
      // A pooled connection to the stopped agent may be reset rather than refused: both are short causes.
      assert.match(String(row.last_error), /^ECONN(REFUSED|RESET)$/, 'a short classified cause');
    }
    // One good round in between resets the streak: failures must be consecutive.
    await b.agent.start();
    await check();
    assert.equal((await nodeRow(orm, idB)).consecutive_failures, 0);
    await b.agent.stop();
    for (let i = 1; i < FAILURES_TO_DOWN; i++) await check();
    assert.equal((await nodeRow(orm, idB)).status, 'up', 'the streak restarted from zero');

    await check();
    const down = await nodeRow(orm, idB);
    assert.equal(down.status, 'down', `down after ${FAILURES_TO_DOWN} consecutive failures`);
    assert.equal(await db.selectNode({ location: null }), idA, 'selection skips the down node');
    assert.equal((await nodeRow(orm, idA)).status, 'up', 'the healthy node is untouched');
    await check();
    assert.equal((await nodeRow(orm, idB)).status, 'down', 'stays down while it fails');
    // Nodes are checked in parallel: the last report about b, not the last report of all.
    assert.equal(statuses.filter((s) => s.name === 'node-b').at(-1)?.up, false);

    await b.agent.start(); // same url and token; its client list comes back from disk
    assert.deepEqual(await check(), { up: 2, down: 0 });
    const back = await nodeRow(orm, idB);
    assert.equal(back.status, 'up', 'up again after one good check');
    assert.equal(back.consecutive_failures, 0);
    assert.equal(back.last_error, null);
    assert.equal(back.client_count, bClients.length);
    assert.deepEqual(await b.agent.emails(), bClients);
    assert.equal(await db.selectNode({ location: null }), idB, 'selectable again');
  });

  it('counts a node whose agent answers but whose Xray is dead as failing', async () => {
    const failuresToDown = 1;
    await b.xray.kill();
    try {
      await nodes.checkNodes({ failuresToDown });
      const row = await nodeRow(orm, idB);
      assert.equal(row.status, 'down');
      assert.match(row.last_error ?? '', /xray/i);
      assert.equal(await db.selectNode({ location: null }), idA);
    } finally {
      await b.xray.start();
    }
    // The agent re-applies its list to the new Xray; one good round brings the node back with the real count.
    const deadline = Date.now() + 10_000;
    while ((await nodeRow(orm, idB)).status !== 'up' && Date.now() < deadline) {
      await nodes.checkNodes({ failuresToDown });
      if ((await nodeRow(orm, idB)).status !== 'up') await new Promise((r) => setTimeout(r, 200));
    }
    const row = await nodeRow(orm, idB);
    assert.equal(row.status, 'up');
    assert.equal(row.client_count, (await b.agent.clients()).length);
  });

  it('leaves disabled nodes alone', async () => {
    await sql(`update vpn_nodes set status = 'disabled', client_count = 42 where id = ?`, [idA]);
    try {
      assert.deepEqual(await check(), { up: 1, down: 0 }, 'only b is checked');
      const row = await nodeRow(orm, idA);
      assert.equal(row.status, 'disabled');
      assert.equal(row.client_count, 42);
      assert.equal(await db.selectNode({ location: null }), idB);
    } finally {
      await sql(`update vpn_nodes set status = 'up' where id = ?`, [idA]);
    }
  });

  it('one misconfigured node does not stop the checks of the others', async () => {
    // The admin API accepts any non-empty host_key; one that cannot be parsed makes its driver throw.
    const broken = await insertNode(orm, {
      name: 'node-0-broken', // sorts first
      driver: 'ssh',
      agentUrl: null,
      agentToken: null,
      ssh: { host: '127.0.0.1', port: 22, username: 'vpn', private_key: 'k', host_key: 'not a key' },
    });
    const noUrl = await insertNode(orm, { name: 'node-0-nourl', agentUrl: null });
    try {
      await handAdd(a, 'late-1');
      const expected = (await a.agent.clients()).length;
      const result = await check();
      assert.equal(result.up, 2);
      assert.equal(result.down, 2);
      assert.equal((await nodeRow(orm, idA)).client_count, expected, 'a was still reconciled');
      for (const id of [broken, noUrl]) {
        const row = await nodeRow(orm, id);
        assert.equal(row.consecutive_failures, 1);
        assert.ok(row.last_error, 'the reason is recorded for the operator');
      }
      assert.match((await nodeRow(orm, broken)).last_error ?? '', /host_key/);
    } finally {
      await sql(`delete from vpn_nodes where id in (?, ?)`, [broken, noUrl]);
    }
  });

  it('addClient is idempotent by email; a new uuid replaces the old one', async () => {
    const email = randomUUID();
    const uuid = randomUUID();
    await nodes.addClient({ nodeId: idA, email, uuid });
    await nodes.addClient({ nodeId: idA, email, uuid });
    const mine = (await a.agent.clients()).filter((c) => c.email === email);
    assert.deepEqual(mine, [{ email, uuid, flow: 'xtls-rprx-vision' }], 'one client on the node');
    assert.ok(!(await b.agent.emails()).includes(email), 'only on the node asked for');

    const uuid2 = randomUUID();
    await nodes.addClient({ nodeId: idA, email, uuid: uuid2 });
    assert.deepEqual(
      (await a.agent.clients()).filter((c) => c.email === email).map((c) => c.uuid),
      [uuid2],
    );
    await check();
    assert.equal((await nodeRow(orm, idA)).client_count, (await a.agent.clients()).length);
  });

  it('removeClient removes, verifies against the node, and is idempotent', async () => {
    const email = randomUUID();
    await nodes.addClient({ nodeId: idB, email, uuid: randomUUID() });
    assert.ok((await b.agent.emails()).includes(email));
    await nodes.removeClient({ nodeId: idB, email });
    assert.ok(!(await b.agent.emails()).includes(email), 'gone from the node');
    await nodes.removeClient({ nodeId: idB, email }); // again: no error
    await check();
    assert.equal((await nodeRow(orm, idB)).client_count, (await b.agent.clients()).length);
  });

  it('node errors: unreachable is retryable, an unknown node is not', async () => {
    await b.agent.stop();
    try {
      const err = await nodes.removeClient({ nodeId: idB, email: 'x' }).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(err, 'a removal cannot be verified on a dead node');
      assert.ok(
        !(err instanceof ApplicationFailure && err.nonRetryable),
        'retryable: the node may come back',
      );
      await assert.rejects(nodes.addClient({ nodeId: idB, email: 'x', uuid: randomUUID() }));
    } finally {
      await b.agent.start();
    }
    await assert.rejects(
      nodes.addClient({ nodeId: randomUUID(), email: 'x', uuid: randomUUID() }),
      (e: unknown) => e instanceof ApplicationFailure && e.nonRetryable && e.type === Failure.NodeRejected,
    );
  });
});
