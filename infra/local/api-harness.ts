import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { type App, createApp } from '../../api/app';
import { type Config, parseConfig } from '../config';
import { createLogger } from '../logger';
import { openReadPool } from '../db/read-pool';
import { createMetrics, type Metrics } from '../metrics';
import { createYooKassaClient, type YooKassaClient } from '../yookassa/client';
import type { PurchaseSystem } from './system';
import { freshDatabase, temporalServer } from './services';

export const API_TOKEN = 'bot-token-for-tests-0123456789';
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected freely.
  body: any;
}

export interface CallOptions {
  body?: unknown;
  /** Raw request body (sent as application/json unless headers say otherwise). */
  raw?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  url: string;
  app: App;
  orm: MikroORM;
  temporal: Client;
  config: Config;
  metrics: Metrics;
  /** JSON log lines the API wrote (warn and above). */
  logs: Array<Record<string, unknown>>;
  /** Bot-facing token by default; pass token: ADMIN_TOKEN or null. */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  yookassa?: YooKassaClient | null;
  /** Replace the Temporal client (e.g. an unreachable one). */
  temporal?: Client;
  /** Reuse a database (default: a fresh one). */
  db?: { url: string; orm: MikroORM };
  /** Clock of the metrics' PostgreSQL cache. */
  metricsNow?: () => number;
}

/** The real app on a real port, with a fresh PostgreSQL database and the shared real Temporal server. */
export async function startApi(options: HarnessOptions = {}): Promise<ApiHarness> {
  const [db, env] = await Promise.all([options.db ?? freshDatabase(), temporalServer()]);
  const config = parseConfig({
    DATABASE_URL: db.url,
    API_TOKEN,
    ADMIN_TOKEN,
    PUBLIC_BASE_URL: 'https://vpn.example',
    TEMPORAL_UI_URL: 'http://temporal-ui.test:8233',
    YOOKASSA_WEBHOOK_ALLOW: '127.0.0.1/32,::1/128',
    METRICS_TOKEN,
    // Suites send bursts for one user; the rate limit has its own suite (rate-limit.test.ts).
    API_RATE_LIMIT: '0',
    ...options.env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const metrics = createMetrics({ orm: db.orm, processMetrics: false, now: options.metricsNow });
  const logger = createLogger('api-test', sink);
  const temporal = options.temporal ?? env.client;
  const reads = openReadPool(db.orm);
  const app = createApp({
    config,
    orm: db.orm,
    reads,
    temporal,
    yookassa: options.yookassa ?? null,
    logger,
    metrics,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function call(method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? API_TOKEN : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let body: unknown = text;
    if (res.headers.get('content-type')?.includes('json')) body = JSON.parse(text);
    checkDocumented(app, method, path, res.status, body);
    return { status: res.status, headers: res.headers, text, body };
  }

  return {
    url,
    app,
    orm: db.orm,
    temporal,
    config,
    metrics,
    logs,
    call,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await reads.close();
    },
  };
}

/** Every answer a test sees must match the schema the route documents for that status (OpenAPI stays true). */
function checkDocumented(app: App, method: string, path: string, status: number, body: unknown): void {
  const bare = path.split('?')[0];
  const route = app.locals.routes.routes.find(
    (r) =>
      r.method === method.toLowerCase() && new RegExp(`^${r.path.replace(/:\w+/g, '[^/]+')}$`).test(bare),
  );
  const schema = route?.responses[status]?.schema;
  if (!schema) return;
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new Error(
      `${method} ${path} → ${status} differs from its documented schema: ${result.error.message}`,
    );
  }
}

/** Value of one series in the Prometheus text, or undefined when absent. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The API on a started PurchaseSystem: its database, its workers' queue and a client of its YooKassa emulator. */
export function startApiOnSystem(sys: PurchaseSystem, env: Record<string, string> = {}): Promise<ApiHarness> {
  const yookassa = createYooKassaClient({
    apiUrl: sys.yookassa.url,
    shopId: sys.shopId,
    secretKey: sys.secretKey,
    returnUrl: 'https://vpn.example/back',
    timeoutMs: 3000,
  });
  return startApi({
    db: { url: sys.databaseUrl, orm: sys.orm },
    yookassa,
    env: { PURCHASES_TASK_QUEUE: sys.queue, ...env },
  });
}
