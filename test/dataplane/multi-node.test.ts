import assert from 'node:assert/strict';
import { createNodeActivities } from '../../activities/nodes';
import { createQuotaActivities } from '../../activities/quota';
import { selectAndReserve } from '../../infra/fleet/capacity';
import { reconcileNow } from '../../infra/nodes/reconcile-start';
import { parseVlessLink } from '../../infra/xray/link';
import { ADMIN_TOKEN, type ApiHarness, startApi } from '../api/harness';
import { freshDatabase } from '../support/services';
import { waitFor } from '../support/wait-for-value';
import { killAllStarted } from '../support/xray';
import type { LiveNode } from '../activities/node-fixture';
import { DataPlane } from './fixture';

// Several nodes per access (issue 12, "Locations and several nodes per access"), ACCESS_NODES=location (the
// default): two locations, three real nodes, real Xray clients through every /sub entry.
describe('multi-node: an access on every node of its locations', function () {
  this.timeout(120_000);
  let api: ApiHarness;
  let plane: DataPlane;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  // node 0 and 1 in de (Frankfurt-like), node 2 in nl.
  let both: Awaited<ReturnType<DataPlane['activeAccess']>>; // locations de + nl, home node 0
  let deOnly: Awaited<ReturnType<DataPlane['activeAccess']>>; // location de, home node 1
  let deviceUuid: string;
  let addedNode: LiveNode;
  let node1Link: string;

  const round = (nodeId: string) =>
    reconcileNow(plane.client, { nodeId, taskQueue: plane.queue, intervalMs: 3_600_000 });

  /** The entries of a /sub answer, as vless:// links (base64 format), for a given x-hwid or none. */
  async function entries(token: string, hwid?: string): Promise<string[]> {
    const res = await api.call('GET', `/sub/${token}?format=base64`, {
      token: null,
      headers: hwid ? { 'x-hwid': hwid } : {},
    });
    assert.equal(res.status, 200, res.text);
    return Buffer.from(res.text, 'base64').toString().split('\n').filter(Boolean);
  }

  const emailsOn = async (i: number) => (await plane.nodes[i].agent.clients()).map((c) => c.email);

  before(async () => {
    db = await freshDatabase();
    plane = await new DataPlane(db.orm).start(
      3,
      (i) => ['de', 'de', 'nl'][i],
      (i) => ['DE', 'DE', 'NL'][i],
    );
    // The API starts a new node's reconcile with NODE_HEALTH_INTERVAL: its first round comes within 1 s.
    api = await startApi({ db, env: { PURCHASES_TASK_QUEUE: plane.queue, NODE_HEALTH_INTERVAL: '1s' } });
    both = await plane.activeAccess(plane.nodes[0], { locations: ['de', 'nl'], telegramId: 951_000_001 });
    deOnly = await plane.activeAccess(plane.nodes[1], { locations: ['de'], telegramId: 951_000_002 });
    for (const n of plane.nodes) assert.equal((await round(n.id)).ok, true);
  });
  after(async () => {
    await api?.close();
    await plane?.stop();
    await killAllStarted();
  });

  it('two locations, three nodes: /sub lists one named entry per node, home first, and each carries traffic', async () => {
    const links = await entries(both.token);
    const parsed = links.map(parseVlessLink);
    assert.deepEqual(
      parsed.map((l) => l.port),
      [plane.nodes[0].xray.port, plane.nodes[1].xray.port, plane.nodes[2].xray.port],
      'home node first, then the de node, then the nl node',
    );
    assert.deepEqual(
      parsed.map((l) => l.remark.replace(/ · node-.*/, ' · node')),
      ['🇩🇪 de · node', '🇩🇪 de · node', '🇳🇱 nl'],
    );
    assert.equal(new Set(parsed.map((l) => l.remark)).size, 3, 'names are unique');
    assert.ok(
      parsed.every((l) => l.uuid === both.clientUuid),
      'the same key on every node',
    );
    for (const [i, link] of links.entries()) assert.equal(await plane.works(link), true, `entry ${i} works`);
    node1Link = links[1];

    // Capacity counts home placements: the nl node carries the de+nl access's client but none of its own.
    const conn = db.orm.em.getConnection();
    const [nl] = await conn.execute(`select client_count from vpn_nodes where id = ?`, [plane.nodes[2].id]);
    assert.equal(Number(nl.client_count), 1, 'the reconcile counted the location client');
    await conn.execute(`update vpn_nodes set capacity = 1 where id = ?`, [plane.nodes[2].id]);
    assert.equal(
      await selectAndReserve(db.orm, { location: 'nl' }),
      plane.nodes[2].id,
      'its one slot is free',
    );
    await conn.execute(`update vpn_nodes set capacity = 100 where id = ?`, [plane.nodes[2].id]);

    const status = await api.call('GET', `/api/v1/subscriptions/${both.telegramId}/status`);
    assert.deepEqual(status.body.locations, ['de', 'nl'], 'status lists the access’s locations');

    // A de-only access is on both de nodes and not on the nl node.
    assert.equal((await entries(deOnly.token)).length, 2);
    assert.ok((await emailsOn(0)).includes(deOnly.subscriptionId));
    assert.ok(!(await emailsOn(2)).includes(deOnly.subscriptionId));
  });

  it('an app sending x-hwid gets its own uuid on every entry, and it works on a node other than the home one', async () => {
    const links = await entries(both.token, 'hwid-951-a');
    const uuids = new Set(links.map((l) => parseVlessLink(l).uuid));
    assert.equal(uuids.size, 1);
    deviceUuid = [...uuids][0];
    assert.notEqual(deviceUuid, both.clientUuid);
    await waitFor(
      async () =>
        (await plane.nodes[2].agent.clients()).some((c) => c.uuid === deviceUuid) ? true : undefined,
      'the device key on the nl node',
      20_000,
    );
    assert.equal(await plane.works(links[2]), true, 'the device key carries traffic on the nl node');
  });

  it('a removed device leaves every node of the access, not only the home node', async () => {
    const [link] = (await entries(both.token, 'hwid-951-b')).slice(2);
    const uuid = parseVlessLink(link).uuid;
    await waitFor(
      async () => ((await plane.nodes[2].agent.clients()).some((c) => c.uuid === uuid) ? true : undefined),
      'the second device on the nl node',
      20_000,
    );
    const [device] = await db.orm.em
      .getConnection()
      .execute(`select id, client_email from devices where client_uuid = ?`, [uuid]);
    const del = await api.call('DELETE', `/api/v1/subscriptions/${both.telegramId}/devices/${device.id}`);
    assert.deepEqual(del.body, { device_id: device.id, removed: true, applied: true });
    for (const i of [0, 1, 2])
      assert.ok(!(await emailsOn(i)).includes(String(device.client_email)), `device gone from node ${i}`);
    await waitFor(
      async () => ((await plane.works(link)) ? undefined : true),
      'the removed device to be cut off on the nl node',
      20_000,
    );
  });

  it('a quota suspension takes the access off every node; a restore puts it back on every node', async () => {
    const third = await plane.activeAccess(plane.nodes[2], {
      locations: ['de', 'nl'],
      telegramId: 951_000_003,
    });
    for (const n of plane.nodes) await round(n.id);
    for (const i of [0, 1, 2]) assert.ok((await emailsOn(i)).includes(third.subscriptionId));
    const conn = db.orm.em.getConnection();
    const quota = createQuotaActivities({ orm: db.orm });
    await conn.execute(`update subscriptions set suspended_at = now() where id = ?`, [third.subscriptionId]);
    assert.deepEqual(await quota.cutOffAccess({ subscriptionId: third.subscriptionId }), {
      nodes: 3,
      failed: 0,
    });
    for (const i of [0, 1, 2])
      assert.ok(!(await emailsOn(i)).includes(third.subscriptionId), `off node ${i}`);
    await conn.execute(`update subscriptions set suspended_at = null where id = ?`, [third.subscriptionId]);
    await quota.restoreAccess({ subscriptionId: third.subscriptionId });
    for (const i of [0, 1, 2])
      assert.ok((await emailsOn(i)).includes(third.subscriptionId), `back on node ${i}`);
    // Out of the way of the checks below (the de-only access stays the only other one).
    await conn.execute(`update subscriptions set status = 'expired' where id = ?`, [third.subscriptionId]);
    for (const n of plane.nodes) await round(n.id);
  });

  it('a node whose agent dies drops out of /sub once health marks it down; the others keep carrying traffic', async () => {
    await plane.nodes[1].agent.stop();
    await createNodeActivities({ orm: db.orm }).checkNodes({ failuresToDown: 1, perNodeTimeoutMs: 3_000 });
    const links = await entries(both.token);
    assert.deepEqual(
      links.map((l) => parseVlessLink(l).port),
      [plane.nodes[0].xray.port, plane.nodes[2].xray.port],
    );
    assert.equal(
      parseVlessLink(links[0]).remark,
      '🇩🇪 de',
      'one de node is left, so the location names it alone',
    );
    for (const link of links) assert.equal(await plane.works(link), true);
  });

  it('a node added to a location (POST /admin/nodes) gets the clients of the accesses there in its first round', async () => {
    const live = await plane.extraNode();
    addedNode = live;
    const created = await api.call('POST', '/api/v1/admin/nodes', {
      token: ADMIN_TOKEN,
      body: {
        name: 'ams-2',
        host: '127.0.0.1',
        port: live.xray.port,
        location: 'nl',
        country_code: 'NL',
        capacity: 100,
        driver: 'agent',
        agent_url: live.agent.url,
        agent_token: live.agent.token,
        reality: {
          public_key: live.xray.publicKey,
          short_id: live.xray.shortId,
          server_name: live.xray.serverName,
        },
      },
    });
    assert.equal(created.status, 201, created.text);
    // Nobody asks for a round: the reconcile workflow the API started does it.
    const [device] = await db.orm.em
      .getConnection()
      .execute(`select client_email from devices where subscription_id = ? and removed_at is null`, [
        both.subscriptionId,
      ]);
    const wanted = [both.subscriptionId, String(device.client_email)];
    const emails = await waitFor(async () => {
      const e = (await live.agent.clients()).map((c) => c.email);
      return wanted.every((w) => e.includes(w)) ? e : undefined;
    }, 'the nl access and its device on the new nl node');
    assert.ok(!emails.includes(deOnly.subscriptionId), 'a de-only access stays off an nl node');

    const links = await entries(both.token);
    const added = links.find((l) => parseVlessLink(l).port === live.xray.port);
    assert.ok(added, 'the new node is listed');
    assert.equal(parseVlessLink(added).remark, '🇳🇱 nl · ams-2', 'two nl nodes now: each named');
    assert.equal(await plane.works(added), true, 'a client through the new node works');
  });

  it('revoke: the access leaves every reachable node at once; a dead node does not hold it and is cleaned when back', async () => {
    const before = await entries(both.token);
    const conn = db.orm.em.getConnection();
    // As the revoke paths do (beginRevoke / adminBeginRevoke), then the removal activity on the home node.
    await conn.execute(`update subscriptions set status = 'revoking' where id = ?`, [both.subscriptionId]);
    await createNodeActivities({ orm: db.orm }).removeClient({
      nodeId: plane.nodes[0].id,
      email: both.subscriptionId,
    });
    const devices = await conn.execute(`select client_email from devices where subscription_id = ?`, [
      both.subscriptionId,
    ]);
    const gone = [both.subscriptionId, ...devices.map((d) => String(d.client_email))];
    for (const agent of [plane.nodes[0].agent, plane.nodes[2].agent, addedNode.agent]) {
      const emails = (await agent.clients()).map((c) => c.email);
      assert.deepEqual(
        emails.filter((e) => gone.includes(e)),
        [],
        `${agent.url}: no client of the access`,
      );
    }
    for (const link of before) assert.equal(await plane.works(link), false, 'its tunnels close');
    assert.equal((await entries(deOnly.token)).length, 1, 'the other access keeps its one live de entry');
    assert.equal(await plane.works((await entries(deOnly.token))[0]), true, 'and it still works');

    // The dead node comes back: its reconcile removes the clients nobody wants there any more.
    await plane.nodes[1].agent.start();
    assert.ok(
      (await emailsOn(1)).includes(both.subscriptionId),
      'the node was down during the revoke: still there',
    );
    assert.equal((await round(plane.nodes[1].id)).ok, true);
    assert.deepEqual(
      (await emailsOn(1)).filter((e) => gone.includes(e)),
      [],
      'gone once the node is back',
    );
    assert.ok((await emailsOn(1)).includes(deOnly.subscriptionId), 'the other access stays');
    await waitFor(
      async () => ((await plane.works(node1Link)) ? undefined : true),
      'the tunnel through the returned node to close',
      20_000,
    );
  });
});
