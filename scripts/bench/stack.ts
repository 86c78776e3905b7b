import type { Client } from '@temporalio/client';
import { openOrm } from '../../infra/db/orm';
import { benchTuning } from './tuning';
import { createYooKassaClient } from '../../infra/yookassa/client';
import { API_TOKEN, type ApiHarness, startApi } from '../../infra/local/api-harness';
import { PurchaseSystem, type SystemOptions } from '../../infra/local/system';
import { type WorkerProcess, spawnWorker } from '../../infra/local/worker-process';
import { ensureBuilt, workerNodeOptions } from './worker-rss';
import type { RecordedCall, TelegramEmulator } from '../../infra/local/telegram-emulator';

/**
 * The system as the benchmarks and chaos scenarios drive it: PostgreSQL, Temporal, the YooKassa and
 * Telegram emulators, a real Xray node + agent (infra/local/system.ts), the real API app on a port,
 * and YooKassa's webhooks pointed at that API (as configured in a shop's settings).
 */
export interface StackOptions {
  /** In-process workers (PurchaseSystem.startWorkers); false when the caller runs worker processes. */
  workers?: boolean;
  /**
   * The workers as `node dist/workers/main.js`, a process of their own as the image runs them, instead of in
   * the bench's process beside the API, the emulators and the load generator (BENCH_WORKERS=process).
   */
  workerProcess?: boolean;
  withNode?: boolean;
  /** The local node's capacity; the harness default (100) is too small for hundreds of purchases. */
  nodeCapacity?: number;
  /** API environment on top of the defaults (e.g. NODE_WAIT_LIMIT). */
  apiEnv?: Record<string, string>;
  system?: SystemOptions;
  /** A Temporal server of the caller's own (e.g. one the chaos run restarts) instead of the shared one. */
  temporal?: { address: string; client: Client };
}

export interface CreateAnswer {
  status: number;
  ms: number;
  // biome-ignore lint/suspicious/noExplicitAny: the JSON body is read field by field
  body: any;
}

export interface Stack {
  sys: PurchaseSystem;
  api: ApiHarness;
  webhookUrl: string;
  telegramLog: TelegramLog;
  /** POST /api/v1/payments/create through the real API, timed on the client side. */
  create(telegramId: number, tariffSlug?: string): Promise<CreateAnswer>;
  /** POST a YooKassa notification to the webhook route, timed on the client side. */
  postWebhook(body: unknown): Promise<{ status: number; ms: number }>;
  /** YooKassa's id for our payment (written by the workflow's createPayment activity). */
  providerId(paymentId: string): Promise<string>;
  /** Users (language en) with consecutive telegram ids starting at `first`. */
  createUsers(first: number, count: number): Promise<number[]>;
  stop(): Promise<void>;
}

let nextBase = 8_100_000_000 + Math.floor(Math.random() * 1_000) * 1_000_000;
/** A block of telegram ids no other benchmark of this run uses. */
export function telegramIds(count: number): number {
  const base = nextBase;
  nextBase += Math.max(1_000, count + 1);
  return base;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const tuning = benchTuning();
  const sys = new PurchaseSystem({ withNode: options.withNode, tuning: tuning.worker, ...options.system });
  await sys.start();
  if (options.temporal) {
    sys.client = options.temporal.client;
    sys.temporalAddress = options.temporal.address;
  }
  if (sys.nodeId && options.nodeCapacity) {
    await sys.orm.em
      .getConnection()
      .execute(`update vpn_nodes set capacity = ? where id = ?`, [options.nodeCapacity, sys.nodeId]);
  }
  // As deployed, the worker and the API each have their own connection pool of the default size
  // (the harness shares one pool of 5 between them, which would cap the figures artificially).
  const workerOrm = await openOrm(sys.databaseUrl, { pool: tuning.dbPool });
  const apiOrm = await openOrm(sys.databaseUrl, { pool: tuning.dbPool });
  sys.orm = workerOrm;
  let worker: WorkerProcess | undefined;
  if (options.workerProcess) {
    ensureBuilt();
    worker = await spawnWorker(
      sys,
      {
        TELEGRAM_RATE_PER_SECOND: String(options.system?.telegramRatePerSecond ?? 15),
        ...(options.apiEnv?.NODE_WAIT_LIMIT ? { NODE_WAIT_LIMIT: options.apiEnv.NODE_WAIT_LIMIT } : {}),
        ...workerNodeOptions(),
      },
      { compiled: true },
    );
  } else if (options.workers !== false) await sys.startWorkers();
  const yookassa = createYooKassaClient({
    apiUrl: sys.yookassa.url,
    shopId: sys.shopId,
    secretKey: sys.secretKey,
    returnUrl: 'http://vpn.test/return',
    timeoutMs: 3000,
  });
  const api = await startApi({
    db: { url: sys.databaseUrl, orm: apiOrm },
    yookassa,
    temporal: options.temporal?.client,
    env: {
      PURCHASES_TASK_QUEUE: sys.queue,
      PUBLIC_BASE_URL: 'http://vpn.test',
      YOOKASSA_WEBHOOK_ALLOW: '127.0.0.1/32,::1/128,::ffff:127.0.0.1/128',
      TELEGRAM_API_ROOT: sys.telegram.url,
      ...options.apiEnv,
    },
  });
  const webhookUrl = `${api.url}/api/v1/payments/webhook`;
  sys.yookassa.setWebhookUrl(webhookUrl);
  const conn = () => sys.orm.em.getConnection();

  return {
    sys,
    api,
    webhookUrl,
    telegramLog: new TelegramLog(sys.telegram),
    async create(telegramId, tariffSlug = 'month-1') {
      const t0 = performance.now();
      const res = await fetch(`${api.url}/api/v1/payments/create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ telegram_id: telegramId, tariff_slug: tariffSlug }),
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text for the error report
      }
      return { status: res.status, ms, body };
    },
    async postWebhook(body) {
      const t0 = performance.now();
      const res = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - t0 };
    },
    async providerId(paymentId) {
      const [row] = await conn().execute(`select provider_payment_id from payments where id = ?`, [
        paymentId,
      ]);
      if (!row?.provider_payment_id) throw new Error(`payment ${paymentId} has no provider id`);
      return row.provider_payment_id;
    },
    async createUsers(first, count) {
      await conn().execute(
        `insert into users (telegram_id, language) select ?::bigint + g, 'en' from generate_series(0, ?) g
           on conflict (telegram_id) do nothing`,
        [first, count - 1],
      );
      return Array.from({ length: count }, (_, i) => first + i);
    },
    async stop() {
      await api.close().catch(() => undefined);
      await worker?.kill().catch(() => undefined);
      await sys.stop().catch(() => undefined);
      await Promise.all([workerOrm.close(), apiOrm.close()]).catch(() => undefined);
    },
  };
}

const SEND_METHODS = new Set(['sendMessage', 'sendPhoto', 'sendInvoice', 'sendDocument']);
const ACTIVATION = /subscription is active until/;

export interface ChatLog {
  /** Successful activation texts (the message with the key). */
  activations: number[];
  /** Successful QR photos. */
  photos: number[];
  /** Every successful send, any kind. */
  sends: number[];
  /** Every call addressed to the chat, including refused ones. */
  attempts: number;
  /** Refusals by error code. */
  errors: Record<number, number>;
  /** Calls addressed to the chat after Telegram first answered 403 (blocked) for it. */
  afterFirst403: number;
}

/**
 * What the Telegram emulator saw, indexed per chat. The emulator's recorder is append-only, so each
 * refresh reads only the calls that came in since the last one.
 */
export class TelegramLog {
  private cursor = 0;
  readonly chats = new Map<number, ChatLog>();
  readonly okSends: number[] = [];
  tooMany = 0;

  constructor(private readonly telegram: TelegramEmulator) {}

  refresh(): this {
    const all = this.telegram.calls();
    for (; this.cursor < all.length; this.cursor++) this.add(all[this.cursor]);
    return this;
  }

  chat(id: number): ChatLog {
    let c = this.chats.get(id);
    if (!c) {
      c = { activations: [], photos: [], sends: [], attempts: 0, errors: {}, afterFirst403: 0 };
      this.chats.set(id, c);
    }
    return c;
  }

  /** When the chat's first activation text arrived (ms since epoch), if it did. */
  activationAt(id: number): number | undefined {
    return this.chats.get(id)?.activations[0];
  }

  private add(call: RecordedCall): void {
    if (!SEND_METHODS.has(call.method)) return;
    const c = this.chat(Number(call.params.chat_id));
    c.attempts++;
    if (c.errors[403]) c.afterFirst403++;
    if (call.error) {
      c.errors[call.error.error_code] = (c.errors[call.error.error_code] ?? 0) + 1;
      if (call.error.error_code === 429) this.tooMany++;
      return;
    }
    this.okSends.push(call.at);
    c.sends.push(call.at);
    if (call.method === 'sendPhoto') c.photos.push(call.at);
    // The key arrives as a text, or (since the one-send activation) as the QR photo's caption.
    const text = call.method === 'sendPhoto' ? call.params.caption : call.params.text;
    if (
      (call.method === 'sendMessage' || call.method === 'sendPhoto') &&
      ACTIVATION.test(String(text ?? ''))
    ) {
      c.activations.push(call.at);
    }
  }
}
