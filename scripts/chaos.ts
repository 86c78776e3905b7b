/**
 * `npm run chaos`: fault figures. Each scenario runs purchases through the real system while something
 * breaks (worker SIGKILLs, YooKassa faults, the node agent down, Telegram 429 storms and a blocked user),
 * then checks the money invariant. One JSON object per line, then a summary table and the machine
 * (stdout); progress on stderr. BENCH_SCALE shrinks the purchase counts; CHAOS_ONLY=a,b picks scenarios
 * (worker_kill, yookassa_faults, agent_down, telegram_storm; opt-in: agent_down_long, a 25 s node outage).
 */
import './bench/quiet';
import { runCli } from './bench/cli';
import { parseScale } from './bench/run';
import { runChaos, SCENARIOS, type ScenarioName } from './chaos/run';

runCli(__filename, async (out) => {
  const scale = parseScale(process.env.BENCH_SCALE);
  const only = process.env.CHAOS_ONLY?.split(',').filter(Boolean) as ScenarioName[] | undefined;
  const unknown = only?.filter((s) => !(s in SCENARIOS));
  if (unknown?.length) {
    throw new Error(
      `CHAOS_ONLY: unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`,
    );
  }
  await runChaos({ scale, only, out });
});
