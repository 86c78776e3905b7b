/**
 * `npm run chaos`: fault figures. Each scenario runs purchases through the real system while something
 * breaks (worker SIGKILLs, YooKassa faults, the node agent down, Telegram 429 storms and a blocked user,
 * PostgreSQL and the Temporal server restarted under load, one user tapping "buy" 10,000 times), then
 * checks the money invariant. One JSON object per line (each with `money_violations` and `ok`), then a
 * summary table and the machine (stdout); progress on stderr. CHAOS_SCALE (or BENCH_SCALE) shrinks the
 * counts; CHAOS_ONLY=a,b picks scenarios (worker_kill, yookassa_faults, agent_down, telegram_storm,
 * pg_restart, temporal_restart, tap_burst; opt-in: agent_down_long, a 25 s node outage).
 */
import './bench/quiet';
import { runCli } from './bench/cli';
import { parseScale } from './bench/run';
import { parseOnly, runChaos } from './chaos/run';

runCli(__filename, async (out) => {
  const scale = parseScale(process.env.CHAOS_SCALE ?? process.env.BENCH_SCALE);
  await runChaos({ scale, only: parseOnly(process.env.CHAOS_ONLY), out });
});
