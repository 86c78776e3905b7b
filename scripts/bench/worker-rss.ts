import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findOrInstallTemporalCli } from '../../infra/local/temporal-cli';
import { SEARCH_ATTRIBUTES } from '../../infra/temporal';
import { purchasesWorkerSettings } from '../../workers/worker-settings';
import { benchTuning } from './tuning';
import { subscriptionWorkflowId } from '../../workflows/purchase-messages';
import { SUBSCRIPTION_WORKFLOW_TYPE, type SubscriptionInput } from '../../workflows/subscription-messages';
import { PurchaseSystem } from '../../infra/local/system';
import { spawnWorker } from '../../infra/local/worker-process';
import type { Figure } from './report';
import { telegramIds } from './stack';
import { pool, round1, scaled, sleep, until } from './stats';

/** VmRSS of a process in MiB, from /proc/<pid>/status; undefined if it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** The process and all its descendants (tsx runs the worker as a child of its CLI process). */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const child of parents.get(pid) ?? []) walk(child);
  };
  walk(root);
  return out;
}

/** RSS of the worker itself (the largest process of the tree) and of the whole tree. */
function sample(root: number): { worker: number; tree: number } {
  const sizes = processTree(root).map((p) => rssMiB(p) ?? 0);
  return { worker: Math.max(...sizes), tree: sizes.reduce((a, b) => a + b, 0) };
}

/** The Temporal dev server's SQLite file (with its WAL), in bytes. */
function fileBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      total += statSync(f).size;
    } catch {
      // not there (yet)
    }
  }
  return total;
}

/** `npm run build` once per run: P5 measures dist/workers/main.js, as the image runs it, on today's sources. */
let built = false;
export function ensureBuilt(): void {
  if (built) return;
  execFileSync('npm', ['run', 'build'], { cwd: path.resolve(__dirname, '..', '..'), stdio: 'ignore' });
  built = true;
}

/** BENCH_WORKER_NODE_OPTIONS: node flags for the worker process alone (e.g. a heap cap), as a deploy sets them. */
export function workerNodeOptions(): { NODE_OPTIONS?: string } {
  const nodeOptions = process.env.BENCH_WORKER_NODE_OPTIONS;
  return nodeOptions ? { NODE_OPTIONS: nodeOptions } : {};
}

/** The Ns of P5: 1k and 10k (scaled), 100k too with BENCH_P5_100K=1. */
export function rssSteps(scale: number): number[] {
  const steps = [1_000, 10_000, ...(process.env.BENCH_P5_100K === '1' ? [100_000] : [])];
  return [...new Set(steps.map((n) => scaled(n, scale, 2)))];
}

/**
 * P5. `npm run worker` as a real process (spawnWorker) on its own queue, database and a Temporal dev
 * server of its own whose history lives in a file, idle first, then with N sleeping subscription
 * lifetimes for each N of rssSteps (added on top of each other): worker RSS, its slope per workflow,
 * and the Temporal database's bytes per subscription.
 */
export async function workerRss({ scale }: { scale: number }): Promise<Figure[]> {
  const steps = rssSteps(scale);
  const n = steps[steps.length - 1];
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'vpn-bench-temporal-'));
  const dbFile = path.join(dbDir, 'temporal.db');
  const temporal = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findOrInstallTemporalCli() },
      dbFilename: dbFile,
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: ['--log-level', 'error'],
    },
  });
  const sys = new PurchaseSystem({ withNode: false });
  await sys.start();
  sys.client = temporal.client;
  sys.temporalAddress = temporal.address;
  const conn = sys.orm.em.getConnection();
  const [node] = await conn.execute(
    `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token,
       reality_public_key, reality_short_id, reality_server_name)
     values ('rss-node', '127.0.0.1', 1, 'nl', 'NL', 1000000, 'agent', 'http://127.0.0.1:1', 'x', 'k', '', 'example.com')
     returning id`,
  );
  const base = telegramIds(n);
  await conn.execute(
    `insert into users (telegram_id, language) select ?::bigint + g, 'en' from generate_series(0, ?) g`,
    [base, n - 1],
  );
  const [tariff] = await conn.execute(`select id from tariffs order by id limit 1`);
  const subs: Array<{ id: string; telegram_id: string }> = await conn.execute(
    `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email,
                                subscription_token, starts_at, expires_at)
     select gen_random_uuid(), u.id, ?, ?, 'active', gen_random_uuid(), 'rss-' || u.telegram_id,
            md5(random()::text || u.telegram_id), now(), now() + interval '2 hours'
       from users u
     returning id, (select telegram_id from users where users.id = user_id)::text as telegram_id`,
    [tariff.id, node.id],
  );
  // The worker as the image runs it (compiled JS, no tsx in the process), built here if it is not yet.
  ensureBuilt();
  const worker = await spawnWorker(sys, { REMIND_BEFORE: '1h', ...workerNodeOptions() }, { compiled: true });
  const root = worker.proc.pid!;
  const figures: Figure[] = [];
  try {
    await sleep(3_000); // start-up settles (bundle loaded, pollers running)
    const idle = sample(root);
    const idleBytes = fileBytes(dbFile);
    const expiresAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
    // Sleeping = its first workflow task ran (it set PurchaseStage=ACTIVE) and it waits on a timer.
    const query = `WorkflowType = '${SUBSCRIPTION_WORKFLOW_TYPE}' AND TaskQueue = '${sys.queue}' AND PurchaseStage = 'ACTIVE' AND ExecutionStatus = 'Running'`;
    let startedCount = 0;
    let previous = { n: 0, rss: idle.worker, bytes: idleBytes };
    for (const step of steps) {
      const t0 = Date.now();
      await pool(subs.slice(startedCount, step), 50, (s) =>
        sys.client.workflow.start(SUBSCRIPTION_WORKFLOW_TYPE, {
          workflowId: subscriptionWorkflowId(s.id),
          taskQueue: sys.queue,
          args: [
            {
              subscriptionId: s.id,
              telegramId: s.telegram_id,
              language: 'en',
              nodeId: node.id,
              expiresAt,
              remindBeforeMs: [3_600_000],
            } satisfies SubscriptionInput,
          ],
        }),
      );
      startedCount = step;
      const settled = await until(
        async () => (await sys.client.workflow.count(query)).count >= step,
        Math.max(180_000, step * 30),
        1_000,
      );
      const settledS = (Date.now() - t0) / 1000;
      const samples: Array<{ worker: number; tree: number }> = [];
      for (let i = 0; i < 10; i++) {
        samples.push(sample(root));
        await sleep(500);
      }
      const last = samples[samples.length - 1];
      const bytes = fileBytes(dbFile);
      figures.push({
        id: 'P5',
        name: 'worker_rss_mb',
        n: step,
        idle_mb: round1(idle.worker),
        value: round1(last.worker),
        peak_mb: round1(Math.max(...samples.map((x) => x.worker))),
        delta_mb: round1(last.worker - idle.worker),
        per_workflow_kb: round1(((last.worker - idle.worker) * 1024) / step),
        slope_kb_per_workflow: round1(((last.worker - previous.rss) * 1024) / (step - previous.n)),
        process_tree_mb: round1(last.tree),
        temporal_db_bytes: bytes,
        temporal_db_bytes_per_subscription: Math.round((bytes - idleBytes) / step),
        temporal_db_slope_bytes: Math.round((bytes - previous.bytes) / (step - previous.n)),
        all_sleeping: settled === true,
        sleeping_after_s: round1(settledS),
        sticky_cache: purchasesWorkerSettings(benchTuning().worker).maxCachedWorkflows,
        node_options: workerNodeOptions().NODE_OPTIONS,
        target: '<= 350 MB, flat in N',
        ok: last.worker <= 350,
        source:
          'VmRSS of the compiled worker (node dist/workers/main.js); Temporal dev server SQLite file (+WAL) size',
      });
      previous = { n: step, rss: last.worker, bytes };
    }
    await pool(subs.slice(0, startedCount), 100, (s) =>
      sys.client.workflow
        .getHandle(subscriptionWorkflowId(s.id))
        .terminate('benchmark over')
        .catch(() => undefined),
    );
    return figures;
  } finally {
    await worker.kill();
    await sys.stop();
    await temporal.teardown().catch(() => undefined);
    rmSync(dbDir, { recursive: true, force: true });
  }
}
