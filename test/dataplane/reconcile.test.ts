import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createNodeActivities } from '../../activities/nodes';
import { deviceEmail } from '../../infra/nodes/desired-state';
import { reconcileNow } from '../../infra/nodes/reconcile-start';
import { buildVlessLink } from '../../infra/xray/link';
import { freshDatabase } from '../support/services';
import { killAllStarted, waitFor } from '../support/xray';
import { DataPlane } from './fixture';

// Desired-state reconcile (issue 12, item 3) on three real nodes: the database says who may connect,
// each node's `reconcile-<node id>` workflow makes the node say the same.
describe('reconcile: nodes follow the desired state', function () {
  this.timeout(120_000);
  let plane: DataPlane;
  const sql = (q: string, p: unknown[] = []) => plane.orm.em.getConnection().execute(q, p);
  const target = (nodeId: string) => ({ nodeId, taskQueue: plane.queue, intervalMs: 3_600_000 });
  const linkOn = (i: number, uuid: string) => {
    const n = plane.nodes[i];
    return buildVlessLink({
      uuid,
      host: '127.0.0.1',
      port: n.xray.port,
      serverName: n.xray.serverName,
      publicKey: n.xray.publicKey,
      shortId: n.xray.shortId,
      remark: 'test',
    });
  };

  before(async () => {
    const db = await freshDatabase();
    plane = await new DataPlane(db.orm).start(3);
  });
  after(async () => {
    await plane?.stop();
    await killAllStarted();
  });

  it('refills a node whose agent lost its store in one round, and every key works again', async () => {
    const node = plane.nodes[0];
    const a = await plane.activeAccess(node);
    const b = await plane.activeAccess(node);
    const deviceId = randomUUID();
    const deviceUuid = randomUUID();
    await sql(
      `insert into devices (id, subscription_id, name, client_uuid, client_email) values (?, ?, 'phone', ?, ?)`,
      [deviceId, a.subscriptionId, deviceUuid, deviceEmail(deviceId)],
    );
    assert.equal((await reconcileNow(plane.client, target(node.id))).ok, true);
    assert.equal(await plane.works(linkOn(0, deviceUuid)), true);

    // The node is rebuilt: agent store wiped, Xray restarted with no users.
    await node.agent.stop();
    rmSync(node.agent.dataDir, { recursive: true, force: true });
    await node.xray.restart();
    await node.agent.start();
    assert.deepEqual(await node.agent.emails(), []);
    assert.equal(await plane.works(linkOn(0, a.clientUuid)), false, 'the wiped node lets nobody in');

    const round = await reconcileNow(plane.client, target(node.id));
    assert.deepEqual(round, { ok: true, exists: true, desired: 3, added: 3, removed: 0, pendingStrays: 0 });
    assert.deepEqual(
      await node.agent.emails(),
      [a.subscriptionId, b.subscriptionId, deviceEmail(deviceId)].sort(),
    );
    for (const uuid of [a.clientUuid, b.clientUuid, deviceUuid])
      await waitFor('key works after the refill', () => plane.works(linkOn(0, uuid)));
    const [event] = await sql(
      `select added, removed, desired from node_reconciles where node_id = ? order by id desc`,
      [node.id],
    );
    assert.deepEqual(event, { added: 3, removed: 0, desired: 3 });
  });

  it('removes what must go at once, and unknown clients only after the grace period', async () => {
    const node = plane.nodes[1];
    const ended = await plane.activeAccess(node);
    const kept = await plane.activeAccess(node);
    await sql(`update subscriptions set status = 'expired' where id = ?`, [ended.subscriptionId]);
    await node.agent.call('PUT', '/clients/op-by-hand', { uuid: randomUUID() });

    const round = await reconcileNow(plane.client, target(node.id));
    assert.equal(round.ok, true);
    assert.deepEqual(await node.agent.emails(), ['op-by-hand', kept.subscriptionId].sort());
    assert.equal(await plane.works(linkOn(1, ended.clientUuid)), false, 'an ended access is cut off at once');
    assert.equal(
      round.ok && round.pendingStrays,
      1,
      'the unknown client waits: it may be a purchase in flight',
    );

    // Past the grace period the stray goes too.
    const nodes = createNodeActivities({ orm: plane.orm });
    const late = await nodes.reconcileNode({ nodeId: node.id, strayGraceMs: 0 });
    assert.deepEqual([late.removed, late.pendingStrays], [1, 0]);
    assert.deepEqual(await node.agent.emails(), [kept.subscriptionId]);
    assert.equal(await plane.works(linkOn(1, kept.clientUuid)), true, 'the wanted client was never touched');
  });

  it('one workflow per node: concurrent requests share it; a disabled node ends it', async () => {
    const node = plane.nodes[2];
    await plane.activeAccess(node);
    const rounds = await Promise.all([1, 2, 3].map(() => reconcileNow(plane.client, target(node.id))));
    assert.ok(rounds.every((r) => r.ok));
    const handle = plane.client.workflow.getHandle(`reconcile-${node.id}`);
    assert.equal((await handle.describe()).status.name, 'RUNNING');

    await sql(`update vpn_nodes set status = 'disabled' where id = ?`, [node.id]);
    const last = await reconcileNow(plane.client, target(node.id));
    assert.deepEqual(last, { ok: false, error: 'node disabled or deleted' });
    await handle.result();
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });
});
