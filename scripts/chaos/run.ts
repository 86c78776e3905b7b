import { type Column, type Figure, Reporter, note } from '../bench/report';
import { tapBurst } from './burst';
import type { ChaosContext } from './common';
import { pgRestart, temporalRestart } from './restarts';
import { agentDown, agentDownLong, telegramStorm, workerKill, yookassaFaults } from './scenarios';

export const SCENARIOS = {
  worker_kill: workerKill,
  yookassa_faults: yookassaFaults,
  agent_down: agentDown,
  telegram_storm: telegramStorm,
  agent_down_long: agentDownLong,
  pg_restart: pgRestart,
  temporal_restart: temporalRestart,
  tap_burst: tapBurst,
} as const satisfies Record<string, (ctx: ChaosContext) => Promise<Figure>>;
export type ScenarioName = keyof typeof SCENARIOS;
/** What `npm run chaos` runs without CHAOS_ONLY (agent_down_long is opt-in: it reproduces a finding). */
export const DEFAULT_SCENARIOS: ScenarioName[] = [
  'worker_kill',
  'yookassa_faults',
  'agent_down',
  'telegram_storm',
  'pg_restart',
  'temporal_restart',
  'tap_burst',
];

/** CHAOS_ONLY=a,b (either `pg_restart` or `pg-restart`); unknown names stop the run with the known ones. */
export function parseOnly(raw: string | undefined): ScenarioName[] | undefined {
  const names = raw
    ?.split(',')
    .map((s) => s.trim().replace(/-/g, '_'))
    .filter(Boolean);
  if (!names?.length) return undefined;
  const unknown = names.filter((s) => !(s in SCENARIOS));
  if (unknown.length) {
    throw new Error(
      `CHAOS_ONLY: unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`,
    );
  }
  return names as ScenarioName[];
}

export const CHAOS_COLUMNS: Column[] = [
  { header: 'scenario', value: (f) => f.name },
  { header: 'purchases', value: (f) => f.purchases },
  { header: 'completed', value: (f) => f.completed },
  { header: 'refunded', value: (f) => f.refunded },
  { header: 'lost', value: (f) => f.lost },
  { header: 'dup clients', value: (f) => f.duplicate_clients ?? f.clients_left_for_refunded },
  { header: 'dup msgs', value: (f) => f.duplicate_activation_messages },
  { header: 'money violations', value: (f) => f.money_violations },
  { header: 'all done s', value: (f) => f.all_done_s },
  { header: 'ok', value: (f) => f.ok },
  {
    header: 'notes',
    value: (f) => (f.error ? String(f.error).replace(/\s+/g, ' ').slice(0, 160) : notes(f)),
  },
];

function notes(f: Figure): string {
  const keys = [
    'kills',
    'completed_during_kills',
    'faults_injected',
    'webhooks_dropped',
    'create_failed_tries',
    'pay_to_granted_p50_ms',
    'pay_to_granted_p95_ms',
    'pay_to_granted_max_ms',
    'outage_s',
    'lost_payments',
    'lost_subscriptions',
    'create_5xx_other_than_503',
    'tap_201',
    'tap_429',
    'tapper_purchases_started',
    'others_slowed',
    'others_refused',
    'paid',
    'create_gave_up',
    'last_grant_after_faults_s',
    'agent_down_s',
    'telegram_429',
    'blocked_chat_attempts',
    'blocked_user_access',
  ];
  return keys
    .filter((k) => f[k] !== undefined)
    .map((k) => `${k}=${f[k]}`)
    .join(' ');
}

export interface ChaosOptions {
  scale: number;
  only?: ScenarioName[];
  out?: { write(chunk: string): unknown };
}

/** Runs the fault scenarios, one JSON line each, then the summary table and the machine. */
export async function runChaos({ scale, only, out }: ChaosOptions): Promise<Figure[]> {
  const reporter = new Reporter(out);
  for (const name of only ?? DEFAULT_SCENARIOS) {
    const t0 = Date.now();
    note(`chaos ${name}: running`);
    try {
      reporter.emit({ ...(await SCENARIOS[name]({ scale })), scale });
    } catch (err) {
      const e = err as Error & { moneyViolations?: number; moneyDetails?: unknown };
      reporter.emit({
        name: `chaos_${name}`,
        scale,
        error: e.message ?? String(err),
        // null: the scenario ended before the money could be checked
        money_violations: e.moneyViolations ?? null,
        ...(e.moneyViolations ? { money_details: e.moneyDetails } : {}),
        ok: false,
      });
    }
    note(`chaos ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  reporter.finish(`npm run chaos — summary (CHAOS_SCALE=${scale})`, CHAOS_COLUMNS);
  return reporter.figures;
}
