import { z } from 'zod';

/** The bot's environment, validated once at start; a bad value names its variable in one line. */

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
    ADMIN_TOKEN: z.string().min(1).optional(),
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
  adminToken?: string;
  supportUrl: string;
  adminIds: number[];
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
    adminToken: e.ADMIN_TOKEN,
    supportUrl: e.SUPPORT_URL,
    adminIds: e.ADMIN_TELEGRAM_IDS,
  };
}
