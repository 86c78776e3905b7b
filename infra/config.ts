import { z } from 'zod';
import { DEFAULT_YOOKASSA_CIDRS } from './net/allowlist';
import { durationField, durationListField, durationOrOffField } from './config-fields';
import { parseDuration } from './duration';
import { parseSecretsKey, SECRETS_KEY_HINT } from './nodes/secrets';
import { receiptCustomerField } from './yookassa/receipt';
import { adminTokensField } from './admin-tokens';

const duration = durationField;
const durationList = durationListField;
const hostPort = z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must look like host:port');
const url = z.string().url('must be a URL such as http://host:port');
const port = z.coerce.number().int().min(0).max(65535);
const optional = z.string().min(1).optional();
const secretsKey = z.string().refine((v) => parseSecretsKey(v) !== undefined, SECRETS_KEY_HINT);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  TEMPORAL_ADDRESS: hostPort.default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: optional,
  TEMPORAL_TLS_CERT: optional,
  TEMPORAL_TLS_KEY: optional,
  TEMPORAL_TLS_CA: optional,
  TEMPORAL_UI_URL: url.default('http://localhost:8233'),
  API_PORT: port.default(8080),
  PUBLIC_BASE_URL: url.default('http://localhost:8080'),
  API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Read-only admin bearer (GET /api/v1/admin/* only), for the bot's admin screens.
  ADMIN_READ_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BOT_TOKEN: optional,
  TELEGRAM_API_ROOT: url.default('https://api.telegram.org'),
  SUPPORT_URL: url.default('https://t.me/support'),
  YOOKASSA_SHOP_ID: optional,
  YOOKASSA_SECRET_KEY: optional,
  YOOKASSA_API_URL: url.default('https://api.yookassa.ru/v3'),
  YOOKASSA_RETURN_URL: url.optional(),
  YOOKASSA_WEBHOOK_ALLOW: z.string().min(1).default(DEFAULT_YOOKASSA_CIDRS.join(',')),
  // 54-FZ receipts (see infra/yookassa/receipt.ts); off by default, checked together in parseConfig.
  YOOKASSA_RECEIPT: z.enum(['on', 'off']).default('off'),
  YOOKASSA_TAX_SYSTEM_CODE: z.coerce.number().int().min(1).max(6).optional(),
  YOOKASSA_VAT_CODE: z.coerce.number().int().min(1).max(12).default(1),
  YOOKASSA_RECEIPT_CUSTOMER: receiptCustomerField.optional(),
  // Circuit breakers on YooKassa and Telegram (infra/circuit-breaker.ts).
  BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  BREAKER_OPEN_FOR: duration.default('30s'),
  TRUSTED_PROXIES: z.string().default(''),
  REMIND_BEFORE: durationList.default('24h'),
  PAYMENT_TIMEOUT: duration.default('1h'),
  NODE_WAIT_LIMIT: duration.default('30m'),
  // Revenue: a cancel within REFUND_WINDOW of a payment refunds it by REFUND_POLICY ("0" = no refunds on cancel).
  REFUND_WINDOW: durationOrOffField.default('0'),
  REFUND_POLICY: z.enum(['prorated', 'full', 'none']).default('prorated'),
  // Auto-renew (workflows/subscription/auto-renew.ts): first attempt this long before the end, then up to
  // AUTO_RENEW_RETRIES attempts in all, spread with backoff over the time left.
  AUTO_RENEW_BEFORE: duration.default('24h'),
  AUTO_RENEW_RETRIES: z.coerce.number().int().min(1).max(20).default(3),
  // A Stars subscriber's access waits this long past its end for Telegram's recurring charge (same key after).
  STARS_RENEWAL_HOLD: duration.default('1h'),
  // Top-ups by Telegram Stars: the roubles one Star buys on the balance (e.g. 1.3); 0 = top-ups by card only.
  TOPUP_STAR_RATE: z.coerce
    .number()
    .min(0)
    .max(1000)
    .refine((v) => v === 0 || v >= 0.01, 'must be 0 (off) or at least 0.01 roubles per Star')
    .default(0),
  TELEGRAM_RATE_PER_SECOND: z.coerce.number().positive().default(15),
  DATA_DIR: z.string().default('.data'),
  PURCHASES_TASK_QUEUE: z
    .string()
    .regex(/^purchases/, 'must start with "purchases"')
    .default('purchases'),
  WORKFLOW_BUNDLE_PATH: optional,
  WORKER_METRICS_PORT: port.default(9464),
  // Purchases worker tuning (README "Performance"): workflows kept in memory between tasks, activity slots.
  WORKER_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
  WORKER_ACTIVITY_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).optional(),
  // PostgreSQL connections per process (API, worker).
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  NODE_HEALTH_INTERVAL: duration.default('30s'),
  // Traffic quota (workflows/quota.ts): how often usage is collected and limits enforced.
  QUOTA_CHECK_INTERVAL: duration.default('1m'),
  // Fleet: a node down longer than this is drained automatically (workflows/drain.ts); "0" = off.
  NODE_DEAD_MIGRATE_AFTER: durationOrOffField.default('0'),
  // Several nodes per access (infra/fleet/access-nodes.ts): location = the home node and every enabled node
  // of the tariff's locations; home = the home node only.
  ACCESS_NODES: z.enum(['location', 'home']).default('location'),
  // Devices (api/devices.ts): true = /sub serves keys only to apps that send x-hwid (one device each).
  DEVICE_HWID_REQUIRED: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  // Subscription URL: how often clients re-fetch it, and the bot the page's Renew button opens.
  SUB_UPDATE_INTERVAL_HOURS: z.coerce.number().int().min(1).max(168).default(12),
  BOT_USERNAME: z
    .string()
    .regex(/^@?[A-Za-z][A-Za-z0-9_]{3,31}$/, 'must be a Telegram bot username such as my_vpn_bot')
    .transform((name) => name.replace(/^@/, ''))
    .optional(),
  // Encrypts agent tokens and SSH private keys in vpn_nodes; _OLD (comma-separated) only decrypts.
  NODE_SECRETS_KEY: secretsKey.optional(),
  NODE_SECRETS_KEY_OLD: z
    .string()
    .refine((v) => v.split(',').every((k) => parseSecretsKey(k) !== undefined), SECRETS_KEY_HINT)
    .optional(),
  // API edge: abuse limits and the metrics token.
  API_RATE_LIMIT: z.coerce.number().min(0).default(5),
  API_RATE_BURST: z.coerce.number().int().min(1).default(20),
  PURCHASE_OPEN_LIMIT: z.coerce.number().int().min(1).default(5),
  PURCHASE_HOURLY_LIMIT: z.coerce.number().int().min(1).default(20),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Trials (api/routes/trials.ts): how long the one free trial per user lasts ("0" turns trials off), and
  // the tariff (slug) whose location it uses; created on first use as an inactive tariff when missing.
  TRIAL_DURATION: z
    .string()
    .transform((v, ctx) => {
      if (v.trim() === '0') return 0;
      try {
        return parseDuration(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .default('3d'),
  TRIAL_TARIFF: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a tariff slug')
    .default('trial'),
  // Referrals and gifts (api/referrals.ts, workflows/gift.ts).
  REFERRAL_BONUS_DAYS: z.coerce.number().int().min(0).max(3650).default(7),
  REFERRAL_WELCOME_DAYS: z.coerce.number().int().min(0).max(3650).default(0),
  GIFT_CLAIM_WINDOW: duration.default('30d'),
  // Operator console (issue 16): named admin tokens; the broadcasts' share of TELEGRAM_RATE_PER_SECOND.
  ADMIN_TOKENS: adminTokensField.optional(),
  BROADCAST_RATE_PER_SECOND: z.coerce.number().positive().optional(),
  // Ops alerts to a Telegram chat (infra/ops-alerts.ts): the chat, how often the same alert may repeat, and
  // when purchases count as stuck (at least COUNT of them in one stage for longer than AFTER).
  ADMIN_ALERT_CHAT_ID: z
    .string()
    .regex(/^-?\d{1,19}$/, 'must be a Telegram chat id, e.g. 777001 or -1001234567890')
    .optional(),
  ALERT_REPEAT: duration.default('15m'),
  STUCK_PURCHASE_ALERT_AFTER: duration.default('30m'),
  STUCK_PURCHASE_ALERT_COUNT: z.coerce.number().int().min(1).default(1),
});

export type Config = z.infer<typeof schema> & { DATABASE_URL: string };

/** Variables that production refuses to start without. */
const REQUIRED_IN_PRODUCTION = ['DATABASE_URL', 'API_TOKEN', 'ADMIN_TOKEN'] as const;

export class ConfigError extends Error {}

export function parseConfig(env: NodeJS.ProcessEnv, required: readonly string[] = []): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`config error: ${issue.path.join('.')} ${issue.message}`);
  }
  const config = result.data;
  const mustHave = [
    ...required,
    ...(config.NODE_ENV === 'production' ? REQUIRED_IN_PRODUCTION : []),
    'DATABASE_URL',
  ];
  for (const name of mustHave) {
    if (!(config as Record<string, unknown>)[name])
      throw new ConfigError(`config error: ${name} is required`);
  }
  assertDistinctTokens(config);
  if ((config.YOOKASSA_SHOP_ID === undefined) !== (config.YOOKASSA_SECRET_KEY === undefined)) {
    throw new ConfigError('config error: YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY must be set together');
  }
  if (config.YOOKASSA_RECEIPT === 'on' && !config.YOOKASSA_RECEIPT_CUSTOMER) {
    throw new ConfigError('config error: YOOKASSA_RECEIPT_CUSTOMER is required when YOOKASSA_RECEIPT=on');
  }
  return config as Config;
}

/** Each bearer opens a different door: a shared value would let the bot's token into the admin API. */
function assertDistinctTokens(config: z.infer<typeof schema>): void {
  const tokens = [
    ['API_TOKEN', config.API_TOKEN],
    ['ADMIN_TOKEN', config.ADMIN_TOKEN],
    ['ADMIN_READ_TOKEN', config.ADMIN_READ_TOKEN],
    ...(config.ADMIN_TOKENS ?? []).map((t) => [`ADMIN_TOKENS(${t.name})`, t.token] as const),
  ] as const;
  for (const [i, [a, va]] of tokens.entries()) {
    for (const [b, vb] of tokens.slice(i + 1)) {
      if (va !== undefined && va === vb) throw new ConfigError(`config error: ${a} and ${b} must differ`);
    }
  }
}

/** Process entry points call this: one clear line and exit 1 instead of a stack trace. */
export function loadConfigOrExit(required: readonly string[] = []): Config {
  try {
    return parseConfig(process.env, required);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
