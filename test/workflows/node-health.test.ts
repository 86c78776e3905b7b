import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createDatabaseActivities } from '../../activities/database';
import { createLogger } from '../../infra/logger';
import { createWorkers } from '../../workers/create-workers';
import { NODE_HEALTH_WORKFLOW_ID, type NodeHealthInput } from '../../workflows/node-health';
import { telegramQueueFor } from '../../workflows/telegram-queue';
import { insertNode, type LiveNode, nodeRow, startLiveNode } from '../activities/node-fixture';
import { freshDatabase, temporalServer } from '../support/services';
import { workflowBundle } from '../support/system';
import { type Closeable, killAllStarted, startTlsTarget, waitFor } from '../support/xray';

const INTERVAL_MS = 500;
const FAILURES_TO_DOWN = 3;

// The durable health/reconcile loop as the worker runs it: real Temporal server, real worker with the
// product's activities, real PostgreSQL, a real Xray node with its agent.
describe('node health workflow on a real Temporal server', function () {
  this.timeout(60_000);
  const queue = `node-health-test-${randomBytes(4).toString('hex')}`;
  let client: Client;
  let orm: MikroORM;
  let target: Closeable;
  let node: LiveNode;
  let nodeId: string;
  let connection: NativeConnection;
  let address: string;
  let workers: Worker[] = [];
  let running: Promise<unknown>[] = [];
  const started: string[] = [];

  /** Started the way workers/main.ts starts it: one per queue, a second start is a no-op. */
  const startHealth = (input: NodeHealthInput, workflowId = `${NODE_HEALTH_WORKFLOW_ID}-${queue}`) => {
    started.push(workflowId);
    return client.workflow.start('nodeHealthWorkflow', {
      workflowId,
      taskQueue: queue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
  };

  before(async () => {
    const [env, db, tls] = await Promise.all([temporalServer(), freshDatabase(), startTlsTarget()]);
    client = env.client;
    address = env.address;
    orm = db.orm;
    target = tls;
    node = await startLiveNode(target);
    nodeId = await insertNode(orm, {
      name: 'node-1',
      agentUrl: node.agent.url,
      agentToken: node.agent.token,
    });
    await startWorkers();
  });

  async function startWorkers(): Promise<void> {
    connection ??= await NativeConnection.connect({ address });
    workers = await createWorkers(
      {
        connection,
        namespace: 'default',
        workflows: { workflowBundle: { codePath: await workflowBundle() } },
        telegramRatePerSecond: 25,
        taskQueues: { purchases: queue, telegram: telegramQueueFor(queue) },
      },
      {
        orm,
        temporal: client,
        yookassa: null,
        telegram: null,
        logger: createLogger('test-node-health'),
        publicBaseUrl: 'http://vpn.test',
        returnUrl: 'http://localhost/return',
        remindBeforeMs: [],
      },
    );
    running = workers.map((w) => w.run());
  }

  async function stopWorkers(): Promise<void> {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
  }

  after(async () => {
    for (const id of started) {
      await client?.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    }
    await stopWorkers();
    await connection?.close();
    await node?.stop();
    await target?.close();
    await killAllStarted();
  });

  it('marks a stopped node down after the expected rounds and up again once it returns', async () => {
    const db = createDatabaseActivities({ orm, logger: createLogger('test-node-health') });
    // Drift the workflow must repair: a client added by hand, our count says 0.
    await node.agent.call('PUT', `/clients/${randomUUID()}`, { uuid: randomUUID() });

    const handle = await startHealth({ intervalMs: INTERVAL_MS, failuresToDown: FAILURES_TO_DOWN });
    const again = await startHealth({ intervalMs: INTERVAL_MS, failuresToDown: FAILURES_TO_DOWN });
    assert.equal(
      again.firstExecutionRunId,
      handle.firstExecutionRunId,
      'a second start joins the running loop',
    );

    await waitFor('first reconcile', async () => (await nodeRow(orm, nodeId)).client_count === 1, 10_000);
    assert.equal((await nodeRow(orm, nodeId)).status, 'up');

    await node.agent.stop();
    const stoppedAt = Date.now();
    const seen: { status: string; failures: number }[] = [];
    for (;;) {
      const row = await nodeRow(orm, nodeId);
      seen.push({ status: row.status, failures: row.consecutive_failures });
      if (row.status === 'down') break;
      assert.ok(Date.now() - stoppedAt < 15_000, `not down in time: ${JSON.stringify(seen.slice(-3))}`);
      await sleep(100);
    }
    const tookMs = Date.now() - stoppedAt;
    for (const s of seen.filter((x) => x.failures < FAILURES_TO_DOWN)) {
      assert.equal(s.status, 'up', `not down before ${FAILURES_TO_DOWN} failures: ${JSON.stringify(seen)}`);
    }
    assert.ok(
      seen.some((s) => s.failures >= 1 && s.status === 'up'),
      'the failures were counted while still up',
    );
    const down = await nodeRow(orm, nodeId);
    assert.ok(down.consecutive_failures >= FAILURES_TO_DOWN);
    // Roughly FAILURES_TO_DOWN rounds of INTERVAL_MS (plus a round already in flight), not minutes.
    assert.ok(tookMs >= (FAILURES_TO_DOWN - 1) * INTERVAL_MS * 0.8, `too fast: ${tookMs} ms`);
    assert.ok(tookMs < (FAILURES_TO_DOWN + 2) * INTERVAL_MS + 5_000, `too slow: ${tookMs} ms`);
    assert.equal(await db.selectNode({ location: null }), null, 'the only node is down: nothing to select');

    await node.agent.start(); // same url and token, its list reloaded from disk
    const backAt = Date.now();
    await waitFor('node up again', async () => (await nodeRow(orm, nodeId)).status === 'up', 10_000);
    assert.ok(Date.now() - backAt < INTERVAL_MS * 2 + 3_000, 'up within about one round');
    const up = await nodeRow(orm, nodeId);
    assert.equal(up.consecutive_failures, 0);
    assert.equal(up.client_count, (await node.agent.clients()).length);
    assert.equal(await db.selectNode({ location: null }), nodeId);

    const desc = await handle.describe();
    assert.equal(desc.status.name, 'RUNNING', 'the loop keeps running through node failures');
  });

  it('survives its worker: another worker carries on the same run', async () => {
    const handle = client.workflow.getHandle(`${NODE_HEALTH_WORKFLOW_ID}-${queue}`);
    const runId = (await handle.describe()).runId;
    await stopWorkers();
    await sleep(300); // let a round that was in flight land
    const frozen = (await nodeRow(orm, nodeId)).last_health_check;
    await sleep(INTERVAL_MS * 3);
    assert.deepEqual((await nodeRow(orm, nodeId)).last_health_check, frozen, 'no worker, no checks');

    await node.agent.call('PUT', `/clients/${randomUUID()}`, { uuid: randomUUID() }); // drift while nobody looks
    await startWorkers();
    const expected = (await node.agent.clients()).length;
    await waitFor(
      'checks resume',
      async () => (await nodeRow(orm, nodeId)).client_count === expected,
      10_000,
    );
    const desc = await handle.describe();
    assert.equal(desc.runId, runId, 'the same durable run, not a new loop');
    assert.equal(desc.status.name, 'RUNNING');
  });

  it('a dozen dead nodes (accept, never answer) do not leave the live one unchecked; the round heartbeats', async function () {
    this.timeout(90_000);
    // Blackholed agents on 127.0.0.2…13: the TCP connection opens, no byte ever comes back.
    const sockets = new Set<net.Socket>();
    const holes = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const server = net.createServer((s) => {
          sockets.add(s);
          s.on('error', () => undefined);
        });
        await new Promise<void>((resolve) => server.listen(0, `127.0.0.${i + 2}`, resolve));
        return server;
      }),
    );
    try {
      const dead: string[] = [];
      for (const [i, hole] of holes.entries()) {
        const { port } = hole.address() as net.AddressInfo;
        dead.push(await insertNode(orm, { name: `dead-${i}`, agentUrl: `http://127.0.0.${i + 2}:${port}` }));
      }
      const since = new Date();
      await node.agent.call('PUT', `/clients/${randomUUID()}`, { uuid: randomUUID() }); // drift to repair
      const expected = (await node.agent.clients()).length;
      // Joins the loop of the tests above, or starts it when this test runs alone.
      const handle = await startHealth({ intervalMs: INTERVAL_MS, failuresToDown: FAILURES_TO_DOWN });

      // One round at the default 10 s per-node deadline; sequential checks would need 12 × 10 s.
      let seen: unknown;
      await waitFor(
        'every dead node classified and the live node reconciled',
        async () => {
          const rows = await Promise.all(dead.map((id) => nodeRow(orm, id)));
          const live = await nodeRow(orm, nodeId);
          seen = { live, dead: rows.map((r) => [r.last_error, r.consecutive_failures]) };
          return (
            rows.every((r) => r.last_error === 'timeout' && r.consecutive_failures >= 1) &&
            live.client_count === expected &&
            live.status === 'up' &&
            live.last_health_check !== null &&
            new Date(live.last_health_check) > since
          );
        },
        30_000,
      ).catch((e) =>
        assert.fail(`${(e as Error).message}: ${JSON.stringify(seen)}, expected ${expected} clients`),
      );

      // The next round waits on the dead nodes again; meanwhile the activity reports progress over all 13.
      const beat = await waitFor(
        'a heartbeat of the round',
        async () => {
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          const details = pending[0]?.heartbeatDetails?.payloads?.[0]?.data;
          return details ? JSON.parse(Buffer.from(details).toString('utf8')) : undefined;
        },
        20_000,
      );
      assert.equal(beat.total, 13, 'the round covers the live node and the 12 dead ones');
    } finally {
      for (const s of sockets) s.destroy();
      await Promise.all(holes.map((h) => new Promise((r) => h.close(r))));
    }
  });
});
