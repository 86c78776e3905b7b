import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createFleetActivities } from '../../activities/fleet';
import { loadAccess } from '../../infra/access';
import { createLogger } from '../../infra/logger';
import { type DrainProgress, drainProgressQuery } from '../../workflows/drain-messages';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from '../api/harness';
import type { RunningAgent } from '../support/agent';
import { startHttpTarget } from '../support/sites';
import { httpGetViaSocks } from '../support/socks';
import { PurchaseSystem } from '../support/system';
import { waitFor } from '../support/wait-for-value';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';
import { startXrayClient } from '../support/xray';

const USERS = 50;
const admin = { token: ADMIN_TOKEN };

async function clientsOn(agent: RunningAgent): Promise<Array<{ email: string; uuid: string }>> {
  const res = await agent.call('GET', '/clients');
  return res.json.clients ?? res.json;
}

describe('fleet: draining a node while the worker is killed twice', function () {
  this.timeout(300_000);
  const sys = new PurchaseSystem({ withNode: false });
  const agents: Record<string, RunningAgent> = {};
  const ports: Record<string, number> = {};
  const stops: Array<() => Promise<void>> = [];
  let api: ApiHarness;
  let worker: WorkerProcess | undefined;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  let nodeA: string;
  let nodeB: string;
  let nodeDe: string;
  const users: Array<{ tg: number; subscriptionId: string; uuid: string; viaSubscriptionUrl: boolean }> = [];

  async function node(location: string): Promise<string> {
    const id = await sys.addLocalNode(100, location);
    const { agent, xray, target } = sys;
    stops.push(async () => {
      await agent?.stop();
      await xray?.stop();
      await target?.close();
    });
    agents[id] = agent!;
    ports[id] = xray!.port;
    return id;
  }

  /** Does this user's current vless:// key carry traffic through a real Xray client? */
  async function carries(subscriptionId: string): Promise<{ ok: boolean; port: number }> {
    const access = await loadAccess(sys.orm, subscriptionId, 'http://vpn.test');
    const client = await startXrayClient(access!.vlessUrl);
    try {
      const res = await httpGetViaSocks(client.socksPort, web.url('/hello'), { timeoutMs: 4_000 });
      return { ok: res.status === 200, port: Number(new URL(access!.vlessUrl).port) };
    } catch {
      return { ok: false, port: Number(new URL(access!.vlessUrl).port) };
    } finally {
      await client.stop();
    }
  }

  before(async () => {
    await sys.start();
    web = await startHttpTarget();
    nodeA = await node('nl');
    nodeB = await node('nl');
    nodeDe = await node('de'); // another location: never a target for nl accesses
    const conn = sys.orm.em.getConnection();
    const [tariff] = await conn.execute(
      `insert into tariffs (slug, name, price, duration_seconds, location, locations) values ('nl-month', 'NL', 199, 2592000, 'nl', '{nl}') returning id`,
    );
    // 50 users on A: every other one uses the subscription URL (its app fetched /sub), the rest a vless:// key.
    for (let i = 0; i < USERS; i++) {
      const tg = 760_000 + i;
      const userId = await sys.createUser(tg);
      const subscriptionId = randomUUID();
      const uuid = randomUUID();
      const viaSubscriptionUrl = i % 2 === 0;
      await conn.execute(
        `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at, sub_fetched_at)
         values (?, ?, ?, ?, 'active', ?, ?, ?, now(), now() + interval '30 days', ?)`,
        [
          subscriptionId,
          userId,
          tariff.id,
          nodeA,
          uuid,
          subscriptionId,
          randomBytes(24).toString('base64url'),
          viaSubscriptionUrl ? new Date() : null,
        ],
      );
      const put = await agents[nodeA].call('PUT', `/clients/${subscriptionId}`, { uuid });
      assert.ok(put.status < 300);
      users.push({ tg, subscriptionId, uuid, viaSubscriptionUrl });
    }
    api = await startApiOnSystem(sys);
    worker = await spawnWorker(sys);
  });
  after(async () => {
    await worker?.kill();
    await api?.close();
    sys.agent = undefined;
    sys.xray = undefined;
    sys.target = undefined;
    await sys.stop();
    for (const stop of stops) await stop();
    await web?.close();
  });

  it('moves all 50 to B once each, tells each user once, leaves A empty and disabled', async () => {
    assert.equal((await carries(users[1].subscriptionId)).ok, true, 'the key works on A before the drain');

    const started = await api.call('POST', `/api/v1/admin/nodes/${nodeA}/drain`, admin);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.workflow_id, `drain-${nodeA}`);
    const again = await api.call('POST', `/api/v1/admin/nodes/${nodeA}/drain`, admin);
    assert.equal(again.status, 202);
    assert.equal(
      again.body.workflow_id,
      started.body.workflow_id,
      'a second request answers the running drain',
    );

    // The drain is slow on purpose (bounded rate): kill the worker twice along the way.
    const moved = async () =>
      (await api.call('GET', `/api/v1/admin/nodes/${nodeA}`, admin)).body.drain?.moved ?? 0;
    for (const atLeast of [8, 25]) {
      await waitFor(async () => ((await moved()) >= atLeast ? true : undefined), `${atLeast} moved`, 90_000);
      await worker!.kill();
      await new Promise((r) => setTimeout(r, 1_000));
      worker = await spawnWorker(sys);
    }
    const handle = sys.client.workflow.getHandle(`drain-${nodeA}`);
    const result: DrainProgress = await handle.result();
    assert.deepEqual(result, { state: 'done', moved: USERS, remaining: 0, failed: 0 });
    let runs = 0;
    for await (const _ of sys.client.workflow.list({ query: `WorkflowId = 'drain-${nodeA}'` })) runs++;
    assert.ok(runs >= 2, `the drain continued as new (${runs} runs)`);

    const view = await api.call('GET', `/api/v1/admin/nodes/${nodeA}`, admin);
    assert.equal(view.status, 200);
    assert.equal(view.body.status, 'disabled');
    assert.deepEqual(
      {
        state: view.body.drain.state,
        moved: view.body.drain.moved,
        remaining: view.body.drain.remaining,
        failed: view.body.drain.failed,
      },
      { state: 'done', moved: USERS, remaining: 0, failed: 0 },
    );

    // The database and both agents agree: every access (with its uuid) on B, nothing left on A.
    const rows = await sys.orm.em
      .getConnection()
      .execute(
        `select node_id, count(*)::int as n from subscriptions where status = 'active' group by node_id`,
      );
    assert.deepEqual(rows, [{ node_id: nodeB, n: USERS }]);
    assert.deepEqual(await clientsOn(agents[nodeA]), [], 'no client left on A');
    const onB = new Map((await clientsOn(agents[nodeB])).map((c) => [c.email, c.uuid]));
    for (const u of users) assert.equal(onB.get(u.subscriptionId), u.uuid, `user ${u.tg} on B`);

    // Each user got exactly one message: the new key for vless:// users, "nothing to do" for /sub users.
    for (const u of users) {
      const sent = sys.telegram.sentTo(u.tg);
      assert.equal(sent.length, 1, `user ${u.tg} got ${sent.length} messages`);
      const text = String(sent[0].params.caption ?? sent[0].params.text ?? '');
      if (u.viaSubscriptionUrl) assert.doesNotMatch(text, /vless:\/\//, `user ${u.tg}`);
      else
        assert.match(text, new RegExp(`vless://${u.uuid}@127\\.0\\.0\\.1:${ports[nodeB]}`), `user ${u.tg}`);
    }

    // Real traffic on B through real Xray clients, for a sample of both kinds of users.
    for (const u of [...users.slice(0, 4), users[USERS - 1]]) {
      const r = await carries(u.subscriptionId);
      assert.deepEqual(r, { ok: true, port: ports[nodeB] }, `user ${u.tg} carries traffic on B`);
    }
  });

  it('shows progress in Temporal too, and refuses to drain a disabled, empty node', async () => {
    const progress = await sys.client.workflow.getHandle(`drain-${nodeA}`).query(drainProgressQuery);
    assert.equal(progress.moved, USERS);
    const refused = await api.call('POST', `/api/v1/admin/nodes/${nodeA}/drain`, admin);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'node_disabled');
    const audit = await sys.orm.em
      .getConnection()
      .execute(`select result from admin_actions where action = 'node.drain' order by id`);
    assert.deepEqual(
      audit.map((a) => a.result),
      ['ok', 'ok', 'refused'],
    );
    const unknown = await api.call('POST', `/api/v1/admin/nodes/${randomUUID()}/drain`, admin);
    assert.equal(unknown.status, 404);
  });

  it('NODE_DEAD_MIGRATE_AFTER: a node down longer is drained (and disabled); one down briefly is not', async () => {
    const conn = sys.orm.em.getConnection();
    await conn.execute(`update vpn_nodes set status = 'down' where id in (?, ?)`, [nodeDe, nodeB]);
    const [row] = await conn.execute(`select down_since from vpn_nodes where id = ?`, [nodeDe]);
    assert.ok(row.down_since, 'the trigger notes since when the node is down');
    await conn.execute(`update vpn_nodes set down_since = now() - interval '1 hour' where id = ?`, [nodeDe]);
    const fleet = createFleetActivities({
      orm: sys.orm,
      logger: createLogger('test-fleet'),
      temporal: sys.client,
    });
    const off = createFleetActivities({
      orm: sys.orm,
      logger: createLogger('test-fleet'),
      temporal: sys.client,
    });
    assert.deepEqual(await off.drainDeadNodes({ taskQueue: sys.queue }), [], 'off by default');
    assert.deepEqual(await fleet.drainDeadNodes({ taskQueue: sys.queue, afterMs: 15 * 60_000 }), [nodeDe]);
    const result: DrainProgress = await sys.client.workflow.getHandle(`drain-${nodeDe}`).result();
    assert.equal(result.state, 'done');
    const [de] = await conn.execute(
      `select n.status, d.reason from vpn_nodes n join node_drains d on d.node_id = n.id where n.id = ?`,
      [nodeDe],
    );
    assert.deepEqual(de, { status: 'disabled', reason: 'dead' });
    // B went down just now (and carries the 50): not drained.
    assert.deepEqual(await fleet.drainDeadNodes({ taskQueue: sys.queue, afterMs: 15 * 60_000 }), []);
  });
});
