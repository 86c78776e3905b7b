/**
 * `npm run bench`: performance figures of the whole system, measured against real PostgreSQL, a real
 * Temporal dev server, a real Xray node + agent and the YooKassa/Telegram emulators.
 * Prints one JSON object per line, then a summary table, then the machine it ran on.
 * A benchmark, not a test: nothing here fails the build. BENCH_SCALE=0.2 shrinks every N;
 * BENCH_ONLY=name,name runs a subset. Progress goes to stderr.
 */
import './bench/quiet';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopServices } from '../test/support/services';
import { BENCHMARKS, type BenchName, parseScale, runBench } from './bench/run';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const scale = parseScale(process.env.BENCH_SCALE);
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) as BenchName[] | undefined;
  const unknown = only?.filter((b) => !BENCHMARKS.includes(b));
  if (unknown?.length)
    throw new Error(`BENCH_ONLY: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
  try {
    await runBench({ scale, only });
  } finally {
    await stopServices();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
