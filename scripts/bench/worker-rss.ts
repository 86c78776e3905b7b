import { readdirSync, readFileSync } from 'node:fs';
import { subscriptionWorkflowId } from '../../workflows/purchase-messages';
import { SUBSCRIPTION_WORKFLOW_TYPE, type SubscriptionInput } from '../../workflows/subscription-messages';
import { PurchaseSystem } from '../../test/support/system';
import { spawnWorker } from '../../test/support/worker-process';
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

/**
 * `npm run worker` as a real process (spawnWorker) on its own queue and database, idle first, then
 * with N sleeping subscription lifetimes started against short DB rows.
 */
export async function workerRss({ scale }: { scale: number }): Promise<Figure[]> {
  const n = scaled(1000, scale, 2);
  const sys = new PurchaseSystem({ withNode: false });
  await sys.start();
  const conn = sys.orm.em.getConnection();
  const [node] = await conn.execute(
    `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token,
       reality_public_key, reality_short_id, reality_server_name)
     values ('rss-node', '127.0.0.1', 1, 'nl', 'NL', 100000, 'agent', 'http://127.0.0.1:1', 'x', 'k', '', 'example.com')
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
  const worker = await spawnWorker(sys, { REMIND_BEFORE: '1h' });
  const root = worker.proc.pid!;
  try {
    await sleep(3_000); // start-up settles (bundle loaded, pollers running)
    const idle = sample(root);
    const expiresAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const t0 = Date.now();
    const handles = await pool(subs, 50, (s) =>
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
    // Sleeping = its first workflow task ran (it set PurchaseStage=ACTIVE) and it waits on a timer.
    const query = `WorkflowType = '${SUBSCRIPTION_WORKFLOW_TYPE}' AND TaskQueue = '${sys.queue}' AND PurchaseStage = 'ACTIVE' AND ExecutionStatus = 'Running'`;
    const settled = await until(
      async () => (await sys.client.workflow.count(query)).count >= n,
      180_000,
      1_000,
    );
    const settledS = (Date.now() - t0) / 1000;
    const samples: Array<{ worker: number; tree: number }> = [];
    for (let i = 0; i < 10; i++) {
      samples.push(sample(root));
      await sleep(500);
    }
    const last = samples[samples.length - 1];
    const peak = Math.max(...samples.map((s) => s.worker));
    await pool(handles, 100, (h) => h.terminate('benchmark over').catch(() => undefined));
    return [
      {
        name: 'worker_rss_mb',
        n,
        idle_mb: round1(idle.worker),
        value: round1(last.worker),
        peak_mb: round1(peak),
        delta_mb: round1(last.worker - idle.worker),
        per_workflow_kb: round1(((last.worker - idle.worker) * 1024) / n),
        process_tree_mb: round1(last.tree),
        all_sleeping: settled === true,
        sleeping_after_s: round1(settledS),
        source: '/proc/<pid>/status VmRSS of the worker node process (child of the tsx CLI)',
      },
    ];
  } finally {
    await worker.kill();
    await sys.stop();
  }
}
