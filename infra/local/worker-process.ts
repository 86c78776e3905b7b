import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { PurchaseSystem } from './system';
import { workflowBundle } from './system';

const ROOT = path.resolve(__dirname, '..', '..');

export interface WorkerProcess {
  proc: ChildProcess;
  output(): string;
  /** SIGKILL: the process really exits, mid-whatever it was doing. */
  kill(): Promise<void>;
}

/** `npm run worker` (workers/main.ts) as a real child process, wired to the test system's services. */
export async function spawnWorker(
  sys: PurchaseSystem,
  env: Record<string, string> = {},
  options: { compiled?: boolean } = {},
): Promise<WorkerProcess> {
  // compiled: `node dist/workers/main.js` as the image runs it (npm run build first); otherwise tsx from source.
  const [command, args] = options.compiled
    ? [process.execPath, [path.join(ROOT, 'dist', 'workers', 'main.js')]]
    : [path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'workers', 'main.ts')]];
  const proc = spawn(command, args, {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      DATABASE_URL: sys.databaseUrl,
      TEMPORAL_ADDRESS: sys.temporalAddress,
      PURCHASES_TASK_QUEUE: sys.queue,
      WORKFLOW_BUNDLE_PATH: await workflowBundle(),
      WORKER_METRICS_PORT: '0',
      NODE_HEALTH_INTERVAL: '1h',
      YOOKASSA_SHOP_ID: sys.shopId,
      YOOKASSA_SECRET_KEY: sys.secretKey,
      YOOKASSA_API_URL: sys.yookassa.url,
      BOT_TOKEN: sys.telegram.token,
      TELEGRAM_API_ROOT: sys.telegram.url,
      PUBLIC_BASE_URL: 'http://vpn.test',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: tsx runs node as a child, and both must die
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes('worker started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', check);
    proc.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${out}`)));
  });
  return {
    proc,
    output: () => out,
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(-proc.pid!, 'SIGKILL');
      await exited;
    },
  };
}
