/**
 * Circuit breakers on the outside systems (YooKassa, Telegram), kept in PostgreSQL so the worker
 * that sees the failures and the API that turns new work away agree.
 *
 * - The adapters (see `watchOutcomes`) record every call's outcome; they never block a call, so
 *   in-flight purchases keep their durable Temporal retries, and those retries double as probes.
 * - `BREAKER_FAILURES` outages in a row open the breaker. After `BREAKER_OPEN_FOR` it is half-open:
 *   the API lets one new request through per period as a probe; a success anywhere closes it, an
 *   outage re-opens it for another period.
 * - Only outages count (5xx, network, timeout; YooKassa's 429 too). A 4xx means the system answered.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { createLogger } from './logger';
import { TelegramUnavailableError } from './telegram/errors';
import { YooKassaUnavailableError } from './yookassa/errors';

export const BREAKER_SYSTEMS = ['yookassa', 'telegram'] as const;
export type BreakerSystem = (typeof BREAKER_SYSTEMS)[number];
export type BreakerState = 'closed' | 'open' | 'half_open';
/** Values of the `circuit_breaker_state` gauge. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1, half_open: 2 };

export interface BreakerSettings {
  /** Outages in a row that open the breaker. */
  failures: number;
  /** How long it stays open before a probe is allowed. */
  openForMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = { failures: 5, openForMs: 30_000 };

export function breakerSettingsFrom(config: {
  BREAKER_FAILURES?: number;
  BREAKER_OPEN_FOR?: number;
}): BreakerSettings {
  return {
    failures: config.BREAKER_FAILURES ?? DEFAULT_BREAKER_SETTINGS.failures,
    openForMs: config.BREAKER_OPEN_FOR ?? DEFAULT_BREAKER_SETTINGS.openForMs,
  };
}

export interface Breakers {
  readonly settings: BreakerSettings;
  recordSuccess(system: BreakerSystem): Promise<void>;
  recordFailure(system: BreakerSystem, error: string): Promise<void>;
  /** Every system's state, read at most once a second (cached) so a busy API does not hammer PostgreSQL. */
  states(): Promise<Record<BreakerSystem, BreakerState>>;
  /** May new work go to `system` now? Closed: yes. Open: no. Half-open: only the caller that wins the probe. */
  admit(system: BreakerSystem): Promise<boolean>;
}

const CACHE_MS = 1000;

export function createBreakers(
  orm: MikroORM,
  settings: BreakerSettings = DEFAULT_BREAKER_SETTINGS,
  opts: { cacheMs?: number; logger?: Logger; onOpen?: (system: BreakerSystem, error: string) => void } = {},
): Breakers {
  const log = opts.logger ?? createLogger('circuit-breaker');
  const sql = () => orm.em.getConnection();
  const openSecs = settings.openForMs / 1000;
  const cacheMs = opts.cacheMs ?? CACHE_MS;
  let cache: { at: number; states: Promise<Record<BreakerSystem, BreakerState>> } | undefined;

  async function readStates(): Promise<Record<BreakerSystem, BreakerState>> {
    const rows = await sql().execute(
      `select system, case when state = 'open' and opened_at + make_interval(secs => ?) <= now()
              then 'half_open' else state end as state
         from circuit_breakers`,
      [openSecs],
    );
    const states = Object.fromEntries(BREAKER_SYSTEMS.map((s) => [s, 'closed'])) as Record<
      BreakerSystem,
      BreakerState
    >;
    for (const r of rows) if (r.system in states) states[r.system as BreakerSystem] = r.state;
    return states;
  }

  function states(): Promise<Record<BreakerSystem, BreakerState>> {
    if (!cache || Date.now() - cache.at > cacheMs) {
      const fresh = { at: Date.now(), states: readStates() };
      fresh.states.catch(() => {
        if (cache === fresh) cache = undefined; // a failed read is not cached
      });
      cache = fresh;
    }
    return cache.states;
  }

  return {
    settings,
    async recordSuccess(system) {
      const rows = await sql().execute(
        `with prev as (select state from circuit_breakers where system = ?)
         update circuit_breakers set state = 'closed', failures = 0, opened_at = null, probe_at = null,
                last_error = null, updated_at = now()
          where system = ? and (state <> 'closed' or failures > 0)
         returning (select state from prev) as was`,
        [system, system],
      );
      if (rows[0]?.was === 'open') {
        cache = undefined;
        log.info({ system }, 'circuit breaker closed: the system answers again');
      }
    },

    async recordFailure(system, error) {
      const n = settings.failures;
      // One statement under the row lock, so concurrent workers count every outage once.
      const [row] = await sql().execute(
        `insert into circuit_breakers as b (system, state, failures, opened_at, last_error, updated_at)
         values (?, case when 1 >= ? then 'open' else 'closed' end, 1, case when 1 >= ? then now() end, ?, now())
         on conflict (system) do update set
           failures = b.failures + 1,
           state = case when b.state = 'open' or b.failures + 1 >= ? then 'open' else 'closed' end,
           opened_at = case
             when b.state = 'open' and b.opened_at + make_interval(secs => ?) > now() then b.opened_at
             when b.state = 'open' or b.failures + 1 >= ? then now()
           end,
           probe_at = case when b.state = 'open' and b.opened_at + make_interval(secs => ?) > now()
             then b.probe_at end,
           last_error = excluded.last_error,
           updated_at = now()
         returning state, failures, opened_at = now() as opened_now`,
        [system, n, n, error.slice(0, 500), n, openSecs, n, openSecs],
      );
      if (row?.opened_now) {
        cache = undefined;
        log.warn(
          { system, failures: Number(row.failures), openForMs: settings.openForMs, error },
          'circuit breaker open: new work is refused until a probe succeeds',
        );
        opts.onOpen?.(system, error);
      }
    },

    states,

    async admit(system) {
      const state = (await states())[system];
      if (state === 'closed') return true;
      if (state === 'open') return false;
      const won = await sql().execute(
        `update circuit_breakers set probe_at = now()
          where system = ? and state = 'open' and opened_at + make_interval(secs => ?) <= now()
            and (probe_at is null or probe_at + make_interval(secs => ?) <= now())
         returning system`,
        [system, openSecs, openSecs],
      );
      if (won.length > 0) {
        log.info({ system }, 'circuit breaker half-open: letting one probe through');
        return true;
      }
      cache = undefined; // maybe a success closed it meanwhile
      return (await states())[system] === 'closed';
    },
  };
}

/** Which failures are outages of the system (as opposed to it answering "no"). */
export const isOutage: Record<BreakerSystem, (err: unknown) => boolean> = {
  yookassa: (err) => err instanceof YooKassaUnavailableError,
  telegram: (err) => err instanceof TelegramUnavailableError,
};

/**
 * Wraps an adapter (YooKassa client, Telegram sender) so each async method's outcome is recorded.
 * The call itself is never refused or delayed by the breaker; a failed breaker write is only logged.
 */
export function watchOutcomes<T extends object>(adapter: T, system: BreakerSystem, breakers: Breakers): T {
  const log = createLogger('circuit-breaker');
  const record = (write: Promise<void>) =>
    write.catch((err: unknown) =>
      log.warn({ system, err: (err as Error).message }, 'could not record the outcome in the breaker'),
    );
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        let result: unknown;
        try {
          result = await value.apply(target, args);
        } catch (err) {
          await record(
            isOutage[system](err)
              ? breakers.recordFailure(system, (err as Error).message)
              : breakers.recordSuccess(system),
          );
          throw err;
        }
        await record(breakers.recordSuccess(system));
        return result;
      };
    },
  });
}

/** `circuit_breaker_state{system}`: 0 closed, 1 open, 2 half-open. Registered once per registry. */
export function registerBreakerGauge(registry: Registry, breakers: Breakers): void {
  if (registry.getSingleMetric('circuit_breaker_state')) return;
  new Gauge({
    name: 'circuit_breaker_state',
    help: 'Circuit breaker on an outside system: 0 closed, 1 open (new work refused), 2 half-open (probing)',
    labelNames: ['system'],
    registers: [registry],
    async collect() {
      const states = await breakers.states().catch(() => undefined);
      if (!states) return; // PostgreSQL down: keep the last values
      for (const system of BREAKER_SYSTEMS) this.set({ system }, BREAKER_STATE_VALUE[states[system]]);
    },
  });
}
