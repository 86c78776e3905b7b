import type { MikroORM } from '@mikro-orm/postgresql';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { createLogger } from './logger';

/**
 * One Prometheus registry per process (API or worker). Counters and histograms are observed by code;
 * the business gauges are read from PostgreSQL (at most every 30 s), so every replica reports the same truth.
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  webhookRejections: Counter<'reason'>;
  starsConfirmRejections: Counter<'reason'>;
  /** Money taken with no workflow left to deliver for it: an operator must refund by hand. */
  paymentsOrphaned: Counter<'provider'>;
  /** Payment succeeded → key delivered, in seconds (observed by the worker). */
  paymentToKey: Histogram;
  telegramSendErrors: Counter<'code'>;
  opsAlerts: Counter<'kind'>;
}

export interface MetricsOptions {
  /** Without it the PostgreSQL-backed gauges are not registered (e.g. in unit tests). */
  orm?: MikroORM;
  /** Process metrics (cpu, memory, event loop); default true. */
  processMetrics?: boolean;
  /** How long the PostgreSQL-backed figures are reused between scrapes; default 30 s. */
  dbCacheMs?: number;
  /** Clock in ms for that cache (tests pass their own). */
  now?: () => number;
}

export const DB_GAUGE_CACHE_MS = 30_000;

const PAYMENT_STATUSES = ['pending', 'succeeded', 'canceled', 'expired', 'refunded'];
const log = createLogger('metrics');

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const metrics: Metrics = {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by express route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    webhookRejections: new Counter({
      name: 'webhook_rejections_total',
      help: 'YooKassa notifications refused or ignored, by reason (forbidden_source, malformed, amount_mismatch, ...)',
      labelNames: ['reason'],
      registers,
    }),
    starsConfirmRejections: new Counter({
      name: 'stars_confirm_rejections_total',
      help: 'Telegram Stars confirmations refused (money taken but not matching a payment), by reason',
      labelNames: ['reason'],
      registers,
    }),
    paymentsOrphaned: new Counter({
      name: 'payments_orphaned_total',
      help: 'Payments that succeeded at the provider while no purchase workflow was left to deliver: refund by hand',
      labelNames: ['provider'],
      registers,
    }),
    paymentToKey: new Histogram({
      name: 'payment_to_key_seconds',
      help: 'Seconds from payment succeeded to the key delivered to the user',
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
      registers,
    }),
    telegramSendErrors: new Counter({
      name: 'telegram_send_errors_total',
      help: 'Telegram Bot API send failures by error code',
      labelNames: ['code'],
      registers,
    }),
    opsAlerts: new Counter({
      name: 'ops_alerts_total',
      help: 'Conditions that need an operator (no node available, orphaned payment, ...), by kind',
      labelNames: ['kind'],
      registers,
    }),
  };
  if (options.orm) {
    const cacheMs = options.dbCacheMs ?? DB_GAUGE_CACHE_MS;
    registerDatabaseGauges(options.orm, registers, cacheMs, options.now ?? Date.now);
  }
  return metrics;
}

type Row = Record<string, unknown>;

interface DatabaseFigures {
  payments: Row[] | null;
  active: Row[] | null;
  nodes: Row[] | null;
}

/**
 * The business gauges come from PostgreSQL, but a scrape must not scan tables each time (a scraper every 5 s,
 * or someone hammering /metrics): the figures are read in one round and kept for `cacheMs`.
 */
function registerDatabaseGauges(
  orm: MikroORM,
  registers: Registry[],
  cacheMs: number,
  now: () => number,
): void {
  const query = async (sql: string): Promise<Row[] | null> => {
    try {
      return (await orm.em.getConnection().execute(sql, [], 'all')) as Row[];
    } catch (err) {
      // A scrape must still answer when PostgreSQL is down; the series keep their last values.
      log.warn({ err: (err as Error).message }, 'metrics query failed');
      return null;
    }
  };
  let cached: { at: number; figures: Promise<DatabaseFigures> } | undefined;
  const figures = () => {
    if (!cached || now() - cached.at >= cacheMs) {
      const read = async (): Promise<DatabaseFigures> => {
        const [payments, active, nodes] = await Promise.all([
          query(`select status, count(*)::int as n from payments group by status`),
          query(`select count(*)::int as n from subscriptions where status = 'active'`),
          query(`select name, status, client_count from vpn_nodes`),
        ]);
        return { payments, active, nodes };
      };
      cached = { at: now(), figures: read() };
    }
    return cached.figures;
  };

  new Gauge({
    name: 'purchases',
    help: 'Purchases (payments) by outcome status',
    labelNames: ['status'],
    registers,
    async collect() {
      const rows = (await figures()).payments;
      if (!rows) return;
      for (const status of PAYMENT_STATUSES) this.set({ status }, 0);
      for (const r of rows) this.set({ status: String(r.status) }, Number(r.n));
    },
  });

  new Gauge({
    name: 'active_subscriptions',
    help: 'Subscriptions with status active',
    registers,
    async collect() {
      const rows = (await figures()).active;
      if (rows) this.set(Number(rows[0].n));
    },
  });

  const nodeGauge = (name: string, help: string, value: (r: Row) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['node'],
      registers,
      async collect() {
        const rows = (await figures()).nodes;
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set({ node: String(r.name) }, value(r));
      },
    });
  nodeGauge('vpn_node_up', '1 when the node is up, 0 when down or disabled', (r) =>
    r.status === 'up' ? 1 : 0,
  );
  nodeGauge('vpn_node_clients', 'Clients the node carries, as last reported', (r) => Number(r.client_count));
}
