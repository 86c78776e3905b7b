import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../infra/local/postgres';

const ROOT = path.resolve(__dirname, '..', '..');

interface Dev {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `npx tsx scripts/dev.ts` in its own process group, as a terminal would run it (Ctrl-C = SIGINT to the group). */
function startDev(dataDir: string, apiPort: number): Dev {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, API_PORT: String(apiPort) };
  for (const name of Object.keys(env)) {
    if (
      /^(BOT_TOKEN|DATABASE_URL|TEMPORAL_|YOOKASSA_|API_TOKEN|ADMIN_TOKEN|AGENT_|PUBLIC_BASE_URL|NODE_ENV)/.test(
        name,
      )
    )
      delete env[name];
  }
  // `npx tsx` would do the same, but npm re-raises the SIGINT after its child exits, hiding dev's exit code.
  const proc = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/dev.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

async function waitForApiUrl(dev: Dev, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const url = /^\s+API:\s+(http:\/\/\S+)/m.exec(dev.output())?.[1];
    if (url) return url;
    if (dev.proc.exitCode !== null)
      throw new Error(`npm run dev exited early:\n${dev.output().slice(-4000)}`);
    await sleep(200);
  }
  throw new Error(`no API URL within ${timeoutMs} ms:\n${dev.output().slice(-4000)}`);
}

/** Ctrl-C; returns the exit code and how long it took. */
async function interrupt(dev: Dev): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  process.kill(-dev.proc.pid!, 'SIGINT');
  const code = await Promise.race([dev.exited, sleep(30_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') throw new Error(`still running 30 s after SIGINT:\n${dev.output().slice(-4000)}`);
  return { code, ms: Date.now() - started };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Processes whose command line names DATA_DIR: temporal, postgres, xray. */
function processesUsing(dataDir: string): string {
  try {
    return execFileSync('pgrep', ['-af', dataDir], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

async function api(base: string, method: string, p: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('npm run dev', function () {
  this.timeout(300_000);
  let dataDir: string;
  let dev: Dev | undefined;
  const telegramId = 700_000_000 + Math.floor(Math.random() * 1_000_000);

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'vpn-dev-test-'));
  });

  after(async () => {
    try {
      // After a failure: Ctrl-C first (dev stops its detached children), then force.
      if (dev && dev.proc.exitCode === null && dev.proc.signalCode === null) {
        process.kill(-dev.proc.pid!, 'SIGINT');
        await Promise.race([dev.exited, sleep(30_000)]);
        if (dev.proc.exitCode === null && dev.proc.signalCode === null)
          process.kill(-dev.proc.pid!, 'SIGKILL');
      }
      const recorded = (() => {
        try {
          const saved = JSON.parse(readFileSync(path.join(dataDir, 'dev-pids.json'), 'utf8'));
          return (saved.children as { pid: number }[]).map((c) => c.pid);
        } catch {
          return [];
        }
      })();
      const named = processesUsing(dataDir) // only processes naming our own temp dir
        .split('\n')
        .filter(Boolean)
        .map((line) => Number(line.split(' ')[0]));
      for (const pid of [...recorded, ...named]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('boots everything, stops cleanly on Ctrl-C, and keeps rows and workflows across a restart', async () => {
    // First run: empty DATA_DIR.
    dev = startDev(dataDir, await freePort());
    const base = await waitForApiUrl(dev, 120_000);
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(((await health.json()) as { checks: unknown }).checks, {
      postgres: 'ok',
      temporal: 'ok',
      yookassa: 'closed',
      telegram: 'closed',
    });

    const secrets = JSON.parse(readFileSync(path.join(dataDir, 'dev-secrets.json'), 'utf8'));
    const registered = await api(base, 'POST', '/api/v1/users/register', secrets.API_TOKEN, {
      telegram_id: telegramId,
    });
    assert.equal(registered.status, 201);
    const payment = await api(base, 'POST', '/api/v1/payments/create', secrets.API_TOKEN, {
      telegram_id: telegramId,
      tariff_slug: 'month-1',
    });
    assert.equal(payment.status, 201, JSON.stringify(payment.body));
    const workflowId = payment.body.workflow_id as string;
    assert.match(workflowId, /^purchase-/);

    const pids = [...dev.output().matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    assert.ok(pids.length >= 5, `pids: ${pids}`); // temporal, postgres, yookassa, worker, api (+ agent)
    const first = await interrupt(dev);
    assert.equal(first.code, 0, dev.output().slice(-3000));
    assert.ok(first.ms < 30_000);
    assert.deepEqual(pids.filter(alive), [], 'children still running after exit');
    assert.equal(processesUsing(dataDir), '');

    // Second run on the same DATA_DIR: the same rows and the same workflow.
    dev = startDev(dataDir, await freePort());
    const base2 = await waitForApiUrl(dev, 120_000);
    const again = await api(base2, 'POST', '/api/v1/users/register', secrets.API_TOKEN, {
      telegram_id: telegramId,
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.user_id, registered.body.user_id);
    const purchases = await api(
      base2,
      'GET',
      `/api/v1/admin/purchases?telegram_id=${telegramId}&include_closed=true`,
      secrets.ADMIN_TOKEN,
    );
    assert.equal(purchases.status, 200);
    const ids = (purchases.body.purchases as { workflow_id: string }[]).map((p) => p.workflow_id);
    assert.ok(ids.includes(workflowId), `${workflowId} not in ${ids}`);

    const second = await interrupt(dev);
    assert.equal(second.code, 0, dev.output().slice(-3000));
    assert.equal(processesUsing(dataDir), '');
  });
});
