import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Telegraf } from 'telegraf';

/** Webhook mode: Telegram POSTs each update here with the secret given to setWebhook in a header. */

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
export const ALLOWED_UPDATES = ['message', 'callback_query', 'pre_checkout_query'] as const;

// Hashing first gives equal lengths, so the comparison time says nothing about the secret.
function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The express handler: wrong or missing secret → 403; otherwise the update is queued, then 200. */
export function webhookHandler(bot: Telegraf, secret: string, logger: Logger): RequestHandler {
  return async (req, res) => {
    if (!sameSecret(req.get(SECRET_HEADER), secret)) {
      logger.warn({ ip: req.ip }, 'webhook call with a wrong secret token');
      res.status(403).end();
      return;
    }
    const update = req.body as { update_id?: unknown } | undefined;
    if (!update || typeof update.update_id !== 'number') {
      res.status(400).end();
      return;
    }
    try {
      // handleUpdate only queues (see DispatchingBot): Telegram gets its 200 at once, so one slow handler
      // never holds back the next delivery (another user's pre_checkout_query has 10 s to be answered).
      await bot.handleUpdate(update as Parameters<Telegraf['handleUpdate']>[0]);
    } catch (err) {
      logger.error({ err, updateId: update.update_id }, 'webhook update failed');
    }
    res.status(200).end();
  };
}

export interface WebhookServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export interface StartWebhookOptions {
  bot: Telegraf;
  /**
   * The public HTTPS URL Telegram calls; its path is the route served here. A function receives the local
   * port once listening (for port 0 in tests, where the URL depends on it).
   */
  url: string | ((localPort: number) => string);
  secret: string;
  port: number;
  host?: string;
  logger: Logger;
}

/** Serves the webhook route, then registers it with setWebhook (so no update arrives before we listen). */
export async function startWebhook(opts: StartWebhookOptions): Promise<WebhookServer> {
  let url = typeof opts.url === 'string' ? opts.url : '';
  let path = url ? new URL(url).pathname : undefined;
  const app = express();
  app.disable('x-powered-by');
  const handler = webhookHandler(opts.bot, opts.secret, opts.logger);
  app.use(express.json({ limit: '1mb' }));
  app.use((req, res, next) => {
    // Only POSTs to the registered URL's path are the webhook; anything else is a plain 404.
    if (req.method !== 'POST' || req.path !== path) return next();
    return handler(req, res, next);
  });
  app.use((_req, res) => {
    res.status(404).end();
  });
  const server = app.listen(opts.port, opts.host ?? '0.0.0.0');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const port = (server.address() as AddressInfo).port;
  if (typeof opts.url === 'function') {
    url = opts.url(port);
    path = new URL(url).pathname;
  }
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  try {
    await opts.bot.telegram.setWebhook(url, {
      secret_token: opts.secret,
      allowed_updates: [...ALLOWED_UPDATES],
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { server, port, close };
}
