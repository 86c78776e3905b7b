/**
 * `npm run bench`: performance figures of the whole system, measured against real PostgreSQL, a real
 * Temporal dev server, a real Xray node + agent and the YooKassa/Telegram emulators.
 * Prints one JSON object per line, then a summary table, then the machine it ran on (stdout);
 * progress notes and any service output go to stderr.
 * A benchmark, not a test: nothing here fails the build. BENCH_SCALE=0.2 shrinks every N;
 * BENCH_ONLY=name,name runs a subset.
 */
import './bench/quiet';
import { runCli } from './bench/cli';
import { BENCHMARKS, type BenchName, parseScale, runBench } from './bench/run';

runCli(__filename, async (out) => {
  const scale = parseScale(process.env.BENCH_SCALE);
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) as BenchName[] | undefined;
  const unknown = only?.filter((b) => !BENCHMARKS.includes(b));
  if (unknown?.length) {
    throw new Error(`BENCH_ONLY: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
  }
  await runBench({ scale, only, out });
});
