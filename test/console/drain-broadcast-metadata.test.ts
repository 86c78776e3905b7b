import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { BROADCAST_PAGE } from '../../workflows/broadcast';
import { drainWorkflowId } from '../../workflows/drain-messages';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from '../api/harness';
import { recordHistory } from '../support/histories';
import { until } from '../support/journey';
import type { PurchaseSystem } from '../support/system';

/** The details a workflow reports (what the Temporal UI shows under "Current details"). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return String(meta.currentDetails ?? '');
}

/**
 * Temporal user metadata of the drain and broadcast workflows on the real API, worker and Temporal server:
 * a human summary at start, kept in the details of every later run (continue-as-new drops it), and details
 * that say what the workflow waits for.
 */
describe('console: drain and broadcast summaries and current details', function () {
  this.timeout(120_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  const admin = (method: string, path: string, body?: unknown) =>
    api.call(method, path, { token: ADMIN_TOKEN, body });

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    // A budget of 60 a second: the broadcasts' third (20/s) gets past a page quickly.
    sys = new PurchaseSystem({ telegramRatePerSecond: 60 });
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys);
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  it('a drain reads "Drain node <id> <name> (nl) · asked by <admin>" and says what it waits for, then that it is done', async () => {
    const conn = sys.orm.em.getConnection();
    const [node] = await conn.execute(`select name from vpn_nodes where id = ?`, [sys.nodeId]);
    // A purchase holds a slot on the node (reserved at selection): the drain must wait for it.
    await conn.execute(
      `insert into node_reservations (holder, node_id, expires_at) values ('test-hold', ?, now() + interval '1 hour')`,
      [sys.nodeId],
    );
    const res = await admin('POST', `/api/v1/admin/nodes/${sys.nodeId}/drain`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const handle = sys.client.workflow.getHandle(drainWorkflowId(sys.nodeId!));
    const summary = `Drain node ${sys.nodeId} ${node.name} (nl) · asked by token:admin`;
    assert.equal(await (await handle.describe()).staticSummary(), summary);
    const waiting = await until(async () => {
      const d = await currentDetails(handle);
      return /looking again/.test(d) && d;
    }, 'the drain waits for the reservation');
    assert.equal(
      waiting,
      `${summary}\nrunning: moved 0, failed 0, 0 left · all moved; looking again in 5 s for a purchase that picked the node before the drain`,
    );

    await conn.execute(`delete from node_reservations where holder = 'test-hold'`);
    assert.equal((await handle.result()).state, 'done');
    await recordHistory(sys.client, handle.workflowId, 'drain-waited-then-done');
    assert.equal(
      await currentDetails(handle),
      `${summary}\ndone: moved 0, failed 0, 0 left · done: the node is disabled`,
    );
  });

  it('a broadcast past its first page (continue-as-new) still shows its summary and its counts', async () => {
    const from = 956_100_000;
    const n = BROADCAST_PAGE + 20;
    await sys.orm.em
      .getConnection()
      .execute(
        `insert into users (telegram_id, language) select g, 'it' from generate_series(?::bigint, ?::bigint) g`,
        [from, from + n - 1],
      );
    const res = await admin('POST', '/api/v1/admin/broadcasts', {
      text: 'ciao',
      audience: { segment: 'all', language: 'it' },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const summary = `Broadcast to ${n} (all) by token:admin`;
    const first = sys.client.workflow.getHandle(res.body.workflow_id);
    const started = await first.describe();
    assert.equal(await started.staticSummary(), summary);

    await admin('POST', `/api/v1/admin/broadcasts/${res.body.broadcast_id}/pause`);
    const paused = await until(async () => {
      const d = await currentDetails(first);
      return /waiting for resume/.test(d) && d;
    }, 'paused');
    assert.ok(paused.startsWith(`${summary}\npaused: sent `), paused);
    assert.ok(paused.endsWith(`, blocked 0, failed 0 of ${n} · waiting for resume (or cancel)`), paused);
    await admin('POST', `/api/v1/admin/broadcasts/${res.body.broadcast_id}/resume`);

    // The last run (after at least one continue-as-new) still reads like the first.
    const latest = sys.client.workflow.getHandle(res.body.workflow_id);
    const result = await latest.result();
    assert.equal(result.state, 'completed');
    await recordHistory(sys.client, latest.workflowId, 'broadcast-last-page-completed');
    const last = await latest.describe();
    assert.notEqual(last.runId, started.runId, 'a later run');
    console.log(`      the last run's static summary: ${JSON.stringify(await last.staticSummary())}`);
    assert.equal(
      await currentDetails(latest),
      `${summary}\ncompleted: sent ${n}, blocked 0, failed 0 of ${n} · done: every recipient settled`,
    );
  });
});
