import {
  type BenchContext,
  httpThroughput,
  paymentLinkLatency,
  paymentToKey,
  purchasesThroughput,
  remindersDelivery,
  telegramBudget,
  terminatePending,
  webhookHandler,
  workerStartup,
} from './benchmarks';
import { NoopShape } from './noop-shape';
import { type Column, type Figure, Reporter, note } from './report';
import { startStack } from './stack';
import { benchTemporal, startServerTemporal } from './temporal-server';
import { testWallTime } from './test-wall';
import { workerRss } from './worker-rss';
import { purchasesWorkerSettings } from '../../workers/worker-settings';
import { benchTuning } from './tuning';

export const BENCHMARKS = [
  'payment_link_latency_ms',
  'payment_to_key_ms',
  'webhook_handler_ms',
  'http_throughput_rps',
  'purchases_throughput_per_s',
  'reminders_delivery',
  'telegram_budget_sweep',
  'worker_startup_ms',
  'worker_rss_mb',
  'npm_test_wall_s',
] as const;
export type BenchName = (typeof BENCHMARKS)[number];

type OnStack = Exclude<BenchName, 'worker_rss_mb' | 'npm_test_wall_s'>;
const ON_STACK: Record<OnStack, (ctx: BenchContext) => Promise<Figure[]>> = {
  payment_link_latency_ms: paymentLinkLatency,
  payment_to_key_ms: paymentToKey,
  webhook_handler_ms: webhookHandler,
  http_throughput_rps: httpThroughput,
  purchases_throughput_per_s: purchasesThroughput,
  reminders_delivery: remindersDelivery,
  telegram_budget_sweep: telegramBudget,
  worker_startup_ms: workerStartup,
};

/** BENCH_WORKERS=process: the workers as a compiled process of their own (as deployed); inline (default): in ours. */
export function benchWorkers(): 'inline' | 'process' {
  const mode = process.env.BENCH_WORKERS ?? 'inline';
  if (mode !== 'inline' && mode !== 'process')
    throw new Error(`BENCH_WORKERS must be inline or process, got "${mode}"`);
  return mode;
}

/** The telegram queue's limit the bench's workers run with: the product default unless BENCH_TELEGRAM_RATE says. */
export function benchTelegramRate(): number {
  const rate = Number(process.env.BENCH_TELEGRAM_RATE ?? 15);
  if (!(rate > 0))
    throw new Error(
      `BENCH_TELEGRAM_RATE must be a positive number, got "${process.env.BENCH_TELEGRAM_RATE}"`,
    );
  return rate;
}

export const BENCH_COLUMNS: Column[] = [
  { header: 'id', value: (f) => f.id },
  { header: 'benchmark', value: (f) => f.name },
  { header: 'mode', value: (f) => f.mode },
  { header: 'n', value: (f) => f.n },
  { header: 'p50', value: (f) => f.p50 },
  { header: 'p95', value: (f) => f.p95 },
  { header: 'value', value: (f) => f.value },
  { header: 'baseline', value: (f) => f.baseline },
  { header: 'base p95/value', value: (f) => f.baseline_p95 ?? f.baseline_value },
  { header: 'ratio', value: (f) => f.ratio_p95 ?? f.ratio },
  { header: 'target', value: (f) => f.target },
  { header: 'ok', value: (f) => f.ok ?? (f.error ? false : undefined) },
  { header: 'notes', value: (f) => f.error ?? notes(f) },
];

function notes(f: Figure): string {
  const keys = [
    'errors',
    'failed',
    'lost',
    'undelivered_in_window',
    'completed',
    'elapsed_s',
    'delivered',
    'deliver_all_s',
    'peak_per_s',
    'create_503_retried',
    'status_503',
    'telegram_429',
    'out_of_order_share',
    'money_violations',
    'idle_mb',
    'delta_mb',
    'slope_kb_per_workflow',
    'temporal_db_bytes_per_subscription',
  ];
  return keys
    .filter((k) => f[k] !== undefined)
    .map((k) => `${k}=${f[k]}`)
    .join(' ');
}

export interface BenchOptions {
  /** Multiplies every N (BENCH_SCALE); 1 = the full run. */
  scale: number;
  /** Only these benchmarks (default: all). */
  only?: BenchName[];
  out?: { write(chunk: string): unknown };
}

/** Runs the benchmarks, printing each figure as a JSON line, then the summary table and the machine. */
export async function runBench({ scale, only, out }: BenchOptions): Promise<Figure[]> {
  const wanted = new Set<BenchName>(only ?? BENCHMARKS);
  const workers = benchWorkers();
  const reporter = new Reporter(out);
  const guarded = async (name: BenchName, run: () => Promise<Figure[]>) => {
    const t0 = Date.now();
    note(`${name}: running`);
    try {
      for (const f of await run()) reporter.emit({ temporal: 'dev', ...f, scale });
    } catch (err) {
      reporter.emit({ name, scale, error: (err as Error).message ?? String(err), ok: false });
    }
    note(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };

  const stackBenches = BENCHMARKS.filter((b): b is keyof typeof ON_STACK => b in ON_STACK && wanted.has(b));
  if (stackBenches.length) {
    note('starting PostgreSQL, Temporal, emulators, Xray node, workers and API');
    const telegramRate = benchTelegramRate();
    const stack = await startStack({
      nodeCapacity: 1_000_000,
      system: { telegramRatePerSecond: telegramRate },
      workerProcess: workers === 'process',
    });
    const noop = await new NoopShape(stack.sys, telegramRate).start();
    try {
      for (const name of stackBenches) {
        const figures = () => ON_STACK[name]({ stack, scale, noop, telegramRate });
        await guarded(name, async () => (await figures()).map((f) => ({ workers, ...f })));
        await terminatePending(stack).catch(() => undefined);
      }
    } finally {
      await noop.stop();
      await stack.stop();
    }
  }
  if (benchTemporal() === 'server') {
    for (const name of ON_SERVER.filter((b) => wanted.has(b)))
      await guarded(name, () => onTemporalServer(name, scale));
  }
  if (wanted.has('worker_rss_mb')) await guarded('worker_rss_mb', () => workerRss({ scale }));
  if (wanted.has('npm_test_wall_s')) await guarded('npm_test_wall_s', async () => testWallTime());
  reporter.finish(`npm run bench — summary (BENCH_SCALE=${scale})`, BENCH_COLUMNS, {
    setup:
      (workers === 'process'
        ? 'one process hosts the API, both emulators and the load generator, the workers run as a compiled process of their own (BENCH_WORKERS=process); '
        : 'one process hosts the API, the in-process workers, both emulators and the load generator; ') +
      'PostgreSQL, the Temporal dev server, Xray and worker_rss_mb’s worker run as separate processes on the same machine; ' +
      'baselines (no-op purchase shape, bare express, Telegram budget) are measured in the same run, beside each figure',
    tuning:
      JSON.stringify(purchasesWorkerSettings(benchTuning().worker)) +
      ` DATABASE_POOL_MAX=${benchTuning().dbPool}`,
  });
  return reporter.figures;
}

/** What BENCH_TEMPORAL=server measures a second time: the figures the engine bounds. */
const ON_SERVER = ['purchases_throughput_per_s', 'payment_link_latency_ms'] as const;

/** BENCH_TEMPORAL=server: one figure again, on the real server on PostgreSQL. */
async function onTemporalServer(name: (typeof ON_SERVER)[number], scale: number): Promise<Figure[]> {
  note(`BENCH_TEMPORAL=server: ${name} on the real Temporal server on PostgreSQL`);
  const temporal = await startServerTemporal();
  const telegramRate = benchTelegramRate();
  try {
    const stack = await startStack({
      nodeCapacity: 1_000_000,
      system: { telegramRatePerSecond: telegramRate },
      temporal,
    });
    const noop = await new NoopShape(stack.sys, telegramRate).start();
    try {
      const figures = await ON_STACK[name]({ stack, scale, noop, telegramRate });
      return figures.map((f) => ({
        ...f,
        temporal: 'server',
        // P2 keeps the mode it has always had there; P4's modes say which concurrency.
        mode:
          name === 'purchases_throughput_per_s' ? 'temporal_server_postgres' : `${f.mode}_temporal_server`,
      }));
    } finally {
      await noop.stop();
      await stack.stop();
    }
  } finally {
    await temporal.close();
  }
}

export function parseScale(raw: string | undefined): number {
  const scale = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`BENCH_SCALE must be a positive number, got "${raw}"`);
  return scale;
}
