import {
  type BenchContext,
  terminatePending,
  paymentLinkLatency,
  paymentToKey,
  purchasesThroughput,
  remindersDelivery,
  webhookHandler,
} from './benchmarks';
import { type Column, type Figure, Reporter, note } from './report';
import { startStack } from './stack';
import { workerRss } from './worker-rss';

export const BENCHMARKS = [
  'payment_link_latency_ms',
  'payment_to_key_ms',
  'webhook_handler_ms',
  'purchases_throughput_per_s',
  'reminders_delivery',
  'worker_rss_mb',
] as const;
export type BenchName = (typeof BENCHMARKS)[number];

const ON_STACK: Record<Exclude<BenchName, 'worker_rss_mb'>, (ctx: BenchContext) => Promise<Figure[]>> = {
  payment_link_latency_ms: paymentLinkLatency,
  payment_to_key_ms: paymentToKey,
  webhook_handler_ms: webhookHandler,
  purchases_throughput_per_s: purchasesThroughput,
  reminders_delivery: remindersDelivery,
};

export const BENCH_COLUMNS: Column[] = [
  { header: 'benchmark', value: (f) => f.name },
  { header: 'mode', value: (f) => f.mode },
  { header: 'n', value: (f) => f.n },
  { header: 'p50', value: (f) => f.p50 },
  { header: 'p95', value: (f) => f.p95 },
  { header: 'max', value: (f) => f.max },
  { header: 'value', value: (f) => f.value },
  { header: 'target', value: (f) => f.target },
  { header: 'ok', value: (f) => f.ok ?? (f.error ? false : undefined) },
  { header: 'notes', value: (f) => f.error ?? notes(f) },
];

function notes(f: Figure): string {
  const keys = [
    'errors',
    'failed',
    'lost',
    'completed',
    'elapsed_s',
    'delivered',
    'deliver_all_s',
    'peak_per_s',
    'create_503_retried',
    'telegram_429',
    'money_violations',
    'idle_mb',
    'delta_mb',
    'per_workflow_kb',
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
  const reporter = new Reporter(out);
  const guarded = async (name: BenchName, run: () => Promise<Figure[]>) => {
    const t0 = Date.now();
    note(`${name}: running`);
    try {
      for (const f of await run()) reporter.emit({ ...f, scale });
    } catch (err) {
      reporter.emit({ name, scale, error: (err as Error).message ?? String(err), ok: false });
    }
    note(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };

  const stackBenches = BENCHMARKS.filter((b): b is keyof typeof ON_STACK => b in ON_STACK && wanted.has(b));
  if (stackBenches.length) {
    note('starting PostgreSQL, Temporal, emulators, Xray node, workers and API');
    const stack = await startStack({ nodeCapacity: 1_000_000 });
    try {
      for (const name of stackBenches) {
        await guarded(name, () => ON_STACK[name]({ stack, scale }));
        await terminatePending(stack).catch(() => undefined);
      }
    } finally {
      await stack.stop();
    }
  }
  if (wanted.has('worker_rss_mb')) await guarded('worker_rss_mb', () => workerRss({ scale }));
  reporter.finish(`npm run bench — summary (BENCH_SCALE=${scale})`, BENCH_COLUMNS, {
    setup:
      'one process hosts the API, the in-process workers, both emulators and the load generator; ' +
      'PostgreSQL, the Temporal dev server, Xray and worker_rss_mb’s worker run as separate processes on the same machine',
  });
  return reporter.figures;
}

export function parseScale(raw: string | undefined): number {
  const scale = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`BENCH_SCALE must be a positive number, got "${raw}"`);
  return scale;
}
