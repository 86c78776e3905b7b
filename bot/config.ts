import { z } from 'zod';
import { durationField } from '../infra/config-fields';

/**
 * The bot's environment, validated once at start; a bad value names its variable in one line.
 * Secrets by role: the bot reads only BOT_TOKEN, API_TOKEN (its bearer for /api/v1/*) and ADMIN_READ_TOKEN
 * (the read-only admin bearer for its admin screens). The full ADMIN_TOKEN, DATABASE_URL and payment keys
 * are never read; `scrubForeignSecrets` removes them from the process if a deployment passes them anyway.
 */

/** Secrets of other processes: the bot never needs them, so it refuses to keep them in its environment. */
export const FOREIGN_SECRETS = [
  'ADMIN_TOKEN',
  'DATABASE_URL',
  'YOOKASSA_SHOP_ID',
  'YOOKASSA_SECRET_KEY',
  'AGENT_TOKEN',
  'POSTGRES_PASSWORD',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_KEY',
] as const;

/** Deletes the other processes' secrets from `env`; returns the names it found (to warn about). */
export function scrubForeignSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const found = FOREIGN_SECRETS.filter((name) => env[name] !== undefined && env[name] !== '');
  for (const name of FOREIGN_SECRETS) delete env[name];
  return found;
}

const secretToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -');
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

const schema = z
  .object({
    BOT_TOKEN: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-DEF (from @BotFather)'),
    TELEGRAM_API_ROOT: httpUrl.default('https://api.telegram.org'),
    BOT_MODE: z.enum(['polling', 'webhook']).default('polling'),
    TELEGRAM_WEBHOOK_SECRET: secretToken.optional(),
    BOT_WEBHOOK_URL: z
      .string()
      .url()
      .refine((u) => u.startsWith('https://'), 'must be an https:// URL (Telegram only calls HTTPS webhooks)')
      .optional(),
    BOT_WEBHOOK_PORT: z.coerce.number().int().min(1).max(65535).default(8081),
    API_URL: httpUrl.default('http://localhost:8080'),
    API_TOKEN: z.string().min(1),
    ADMIN_READ_TOKEN: z.string().min(1).optional(),
    // The `bot` entry of the API's ADMIN_TOKENS: the admin screens' writes, audited as tg:<admin id>.
    ADMIN_BOT_TOKEN: z.string().min(16).optional(),
    // Read only to refuse ADMIN_READ_TOKEN = ADMIN_TOKEN; never kept in the config.
    ADMIN_TOKEN: z.string().optional(),
    BOT_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
    BOT_FLOOD_LIMIT: z.coerce.number().int().min(0).max(1000).default(5),
    BOT_FLOOD_COOLDOWN: durationField.default('10s'),
    // Shown on the invite screen; the worker grants it (same variable, same default).
    REFERRAL_BONUS_DAYS: z.coerce.number().int().min(0).max(3650).default(7),
    SUPPORT_URL: httpUrl
      .or(z.string().regex(/^tg:\/\//, 'must be an http(s) or tg:// URL'))
      .default('https://t.me/support'),
    ADMIN_TELEGRAM_IDS: z
      .string()
      .default('')
      .transform((s, ctx) => {
        const parts = s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        const bad = parts.find((p) => !/^\d+$/.test(p));
        if (bad) ctx.addIssue({ code: 'custom', message: `"${bad}" is not a numeric Telegram id` });
        return parts.map(Number);
      }),
  })
  .superRefine((env, ctx) => {
    if (
      env.ADMIN_BOT_TOKEN !== undefined &&
      [env.API_TOKEN, env.ADMIN_READ_TOKEN].includes(env.ADMIN_BOT_TOKEN)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_BOT_TOKEN'],
        message: 'must differ from API_TOKEN and ADMIN_READ_TOKEN',
      });
    if (env.ADMIN_READ_TOKEN !== undefined && env.ADMIN_READ_TOKEN === env.API_TOKEN)
      ctx.addIssue({ code: 'custom', path: ['ADMIN_READ_TOKEN'], message: 'must differ from API_TOKEN' });
    if (env.ADMIN_READ_TOKEN !== undefined && env.ADMIN_READ_TOKEN === env.ADMIN_TOKEN)
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_READ_TOKEN'],
        message: 'must be the read-only admin token, not ADMIN_TOKEN',
      });
    if (env.BOT_MODE !== 'webhook') return;
    for (const name of ['BOT_WEBHOOK_URL', 'TELEGRAM_WEBHOOK_SECRET'] as const) {
      if (!env[name])
        ctx.addIssue({ code: 'custom', path: [name], message: 'is required when BOT_MODE=webhook' });
    }
  });

export interface BotConfig {
  botToken: string;
  apiRoot: string;
  mode: 'polling' | 'webhook';
  webhook?: { url: string; port: number; secret: string };
  apiUrl: string;
  apiToken: string;
  /** ADMIN_READ_TOKEN: GET-only access to /api/v1/admin/* for the admin screens. */
  adminReadToken?: string;
  /** ADMIN_BOT_TOKEN: the admin screens' actions (extend, revoke, resend, block), audited as the admin. */
  adminBotToken?: string;
  supportUrl: string;
  adminIds: number[];
  /** Chats whose updates are handled at the same time. */
  concurrency: number;
  /** Updates per second per user before the slow-down answer (0 = off), and the silent cooldown after it. */
  flood: { limit: number; cooldownMs: number };
  /** REFERRAL_BONUS_DAYS, shown on the invite screen. */
  referralBonusDays: number;
}

export class ConfigError extends Error {}

// Empty strings in .env files mean "not set", so defaults apply to them too.
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  );
}

export function loadBotConfig(env: NodeJS.ProcessEnv = process.env): BotConfig {
  const parsed = schema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    const message =
      issue.code === 'invalid_type' && issue.received === 'undefined' ? 'is required' : issue.message;
    throw new ConfigError(`Invalid configuration: ${name} ${message}`);
  }
  const e = parsed.data;
  return {
    botToken: e.BOT_TOKEN,
    apiRoot: e.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
    mode: e.BOT_MODE,
    webhook:
      e.BOT_MODE === 'webhook'
        ? { url: e.BOT_WEBHOOK_URL!, port: e.BOT_WEBHOOK_PORT, secret: e.TELEGRAM_WEBHOOK_SECRET! }
        : undefined,
    apiUrl: e.API_URL.replace(/\/+$/, ''),
    apiToken: e.API_TOKEN,
    adminReadToken: e.ADMIN_READ_TOKEN,
    adminBotToken: e.ADMIN_BOT_TOKEN,
    supportUrl: e.SUPPORT_URL,
    adminIds: e.ADMIN_TELEGRAM_IDS,
    concurrency: e.BOT_CONCURRENCY,
    flood: { limit: e.BOT_FLOOD_LIMIT, cooldownMs: e.BOT_FLOOD_COOLDOWN },
    referralBonusDays: e.REFERRAL_BONUS_DAYS,
  };
}
