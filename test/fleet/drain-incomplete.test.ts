import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadAccess } from '../../infra/access';
import { type DrainProgress, drainWorkflowId } from '../../workflows/drain-messages';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from '../api/harness';
import type { RunningAgent } from '../support/agent';
import { startHttpTarget } from '../support/sites';
import { httpGetViaSocks } from '../support/socks';
import { PurchaseSystem } from '../support/system';
import { startXrayClient } from '../support/xray';

const USERS = 3;
const ADMIN_CHAT = 954_999_001;
const admin = { token: ADMIN_TOKEN };

// The drain's failure path (issue 12): node A drained while the location has no other node with room.
// What an operator expects: the users stay on A and keep working, A takes no new users but is NOT disabled,
// the drain ends `failed` with `failed` = 3 and the reason, the admin chat hears it once, and a drain after
// capacity is added moves them. Real agents, real Xray, real Xray clients. Telegram ids 954_5xx_xxx.
describe('fleet: a drain with nowhere to go', function () {
  this.timeout(180_000);
  const sys = new PurchaseSystem({
    withNode: false,
    alerts: { chatId: String(ADMIN_CHAT), repeatMs: 15 * 60_000 },
  });
  const agents: Record<string, RunningAgent> = {};
  const ports: Record<string, number> = {};
  const stops: Array<() => Promise<void>> = [];
  let api: ApiHarness;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  let nodeA: string;
  let nodeB: string;
  const users: Array<{ tg: number; subscriptionId: string }> = [];
  const sql = (q: string, p: unknown[] = []) => sys.orm.em.getConnection().execute(q, p);
  const alertsInChat = () =>
    sys.telegram.sentTo(ADMIN_CHAT).filter((c) => /drain_incomplete/.test(String(c.params.text)));

  async function node(capacity: number): Promise<string> {
    const id = await sys.addLocalNode(capacity, 'nl');
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

  async function carries(subscriptionId: string): Promise<{ ok: boolean; port: number }> {
    const access = await loadAccess(sys.orm, subscriptionId, 'http://vpn.test');
    const port = Number(new URL(access!.vlessUrl).port);
    const client = await startXrayClient(access!.vlessUrl);
    try {
      const res = await httpGetViaSocks(client.socksPort, web.url('/hello'), { timeoutMs: 4_000 });
      return { ok: res.status === 200, port };
    } catch {
      return { ok: false, port };
    } finally {
      await client.stop();
    }
  }

  async function drain(): Promise<DrainProgress> {
    const started = await api.call('POST', `/api/v1/admin/nodes/${nodeA}/drain`, admin);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return sys.client.workflow.getHandle(drainWorkflowId(nodeA)).result();
  }

  before(async () => {
    await sys.start();
    web = await startHttpTarget();
    nodeA = await node(100);
    nodeB = await node(0); // full: the only other node of the location has no room
    const [tariff] = await sql(
      `insert into tariffs (slug, name, price, duration_seconds, location, locations) values ('nl-stuck', 'NL', 199, 2592000, 'nl', '{nl}') returning id`,
    );
    for (let i = 0; i < USERS; i++) {
      const tg = 954_500_000 + Math.floor(Math.random() * 100_000) * 10 + i;
      const userId = await sys.createUser(tg);
      const subscriptionId = randomUUID();
      const uuid = randomUUID();
      await sql(
        `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
         values (?, ?, ?, ?, 'active', ?, ?, ?, now(), now() + interval '30 days')`,
        [
          subscriptionId,
          userId,
          tariff.id,
          nodeA,
          uuid,
          subscriptionId,
          randomBytes(24).toString('base64url'),
        ],
      );
      const put = await agents[nodeA].call('PUT', `/clients/${subscriptionId}`, { uuid });
      assert.ok(put.status < 300);
      users.push({ tg, subscriptionId });
    }
    await sys.startWorkers();
    api = await startApiOnSystem(sys, { ADMIN_ALERT_CHAT_ID: String(ADMIN_CHAT) });
  });
  after(async () => {
    await api?.close();
    sys.agent = undefined;
    sys.xray = undefined;
    sys.target = undefined;
    await sys.stop();
    for (const stop of stops) await stop();
    await web?.close();
  });

  it('B full: failed 3, the users still carry traffic on A, A out of selection but not disabled, one alert', async () => {
    const result = await drain();
    assert.deepEqual(result, { state: 'failed', moved: 0, remaining: 0, failed: USERS });

    // The API shows it, with the reason.
    const view = await api.call('GET', `/api/v1/admin/nodes/${nodeA}`, admin);
    assert.equal(view.status, 200);
    assert.notEqual(view.body.status, 'disabled', 'A still serves users who depend on it');
    assert.deepEqual(
      [view.body.drain.state, view.body.drain.moved, view.body.drain.failed],
      ['failed', 0, USERS],
    );
    assert.match(view.body.drain.last_error, /no healthy node with room in nl/);

    // Nobody moved, nobody was told, every key still works on A with its client in place.
    const rows = await sql(`select node_id from subscriptions where status = 'active'`);
    assert.deepEqual(
      rows.map((r) => r.node_id),
      Array(USERS).fill(nodeA),
    );
    const onA = (await agents[nodeA].call('GET', '/clients')).json;
    const emails = (onA.clients ?? onA).map((c: { email: string }) => c.email);
    for (const u of users) {
      assert.ok(emails.includes(u.subscriptionId), `user ${u.tg}'s client is still on A`);
      assert.deepEqual(await carries(u.subscriptionId), { ok: true, port: ports[nodeA] }, `user ${u.tg}`);
      assert.equal(
        sys.telegram.sentTo(u.tg).length,
        0,
        `user ${u.tg} was not told of a move that did not happen`,
      );
    }
    // A takes no new users while its drain stands.
    const [a] = await sql(`select draining_at from vpn_nodes where id = ?`, [nodeA]);
    assert.ok(a.draining_at, 'A stays out of selection');

    // The admin chat hears it once, naming the node, the count and what to do.
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === ADMIN_CHAT && /drain_incomplete/.test(String(c.params.text)),
      30_000,
    );
    const deliveries: string[] = [];
    for await (const wf of sys.client.workflow.list({ query: `WorkflowType = 'opsAlertWorkflow'` }))
      if (wf.workflowId.startsWith('ops-alert-drain_incomplete:')) deliveries.push(wf.workflowId);
    assert.equal(deliveries.length, 1, 'one delivery for this drain');
    await sys.client.workflow.getHandle(deliveries[0]).result();
    const alerts = alertsInChat();
    assert.equal(alerts.length, 1, 'one drain_incomplete message');
    assert.match(String(alerts[0].params.text), new RegExp(`${USERS} access\\(es\\) it could not move`));
    assert.match(String(alerts[0].params.text), /drain again/);
  });

  it('after capacity is added, a new drain moves exactly those 3 and A ends disabled', async () => {
    await sql(`update vpn_nodes set capacity = 10 where id = ?`, [nodeB]);
    const result = await drain();
    assert.deepEqual(result, { state: 'done', moved: USERS, remaining: 0, failed: 0 });
    const [a] = await sql(`select status from vpn_nodes where id = ?`, [nodeA]);
    assert.equal(a.status, 'disabled');
    for (const u of users)
      assert.deepEqual(
        await carries(u.subscriptionId),
        { ok: true, port: ports[nodeB] },
        `user ${u.tg} on B`,
      );
    assert.equal(alertsInChat().length, 1, 'a drain that ends done raises no drain_incomplete');
  });
});
