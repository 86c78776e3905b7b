import { randomBytes, randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Faults, type FailSpec } from './bot-api-emulator/faults';
import { createInjector, type UpdateInjector } from './bot-api-emulator/inject';
import { BotApiCore } from './bot-api-emulator/methods';
import { parseRequest } from './bot-api-emulator/params';
import { CallRecorder, type RecordedCall } from './bot-api-emulator/recorder';
import {
  ApiFailure,
  type Params,
  type TgMessage,
  type TgUpdate,
  type TgUser,
} from './bot-api-emulator/state';
import { type WebhookDelivery, WebhookPusher } from './bot-api-emulator/webhook';

/**
 * A Telegram Bot API emulator for tests: serves `/bot<token>/<method>` on 127.0.0.1, records every call,
 * injects updates, and fails like Telegram does (429 with retry_after, 403 for blocked users, 5xx).
 * The bot under test only gets a different apiRoot; it cannot tell it is emulated.
 */

export type { FailSpec, RecordedCall };

export interface TelegramEmulator extends UpdateInjector {
  /** The apiRoot to give the bot, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly token: string;
  readonly bot: TgUser;
  failNext(method: string, spec: FailSpec): void;
  blockUser(chatId: number): void;
  unblockUser(chatId: number): void;
  /** Telegram's global ~30 messages/s across send* methods; over it → 429 with retry_after. */
  setRateLimit(enabled: boolean, perSecond?: number): void;
  calls(method?: string): RecordedCall[];
  /** Successful send* calls to one chat, in order. */
  sentTo(chatId: number): RecordedCall[];
  /** Resolves with the first recorded call (past or future) matching; the index helps skip older calls. */
  waitFor(
    predicate: (call: RecordedCall, index: number) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedCall>;
  /** Resolves once a bot is long-polling getUpdates (calls are recorded when they complete). */
  waitForPolling(timeoutMs?: number): Promise<void>;
  messages(chatId: number): TgMessage[];
  webhookDeliveries(): WebhookDelivery[];
  pendingUpdates(): TgUpdate[];
  close(): Promise<void>;
}

export interface EmulatorOptions {
  token?: string;
  rateLimit?: boolean;
  messagesPerSecond?: number;
}

/** Made per run, in the Bot API's shape, so no token-like string is committed. */
export const DEFAULT_TEST_TOKEN = `${randomInt(100_000_000, 999_999_999)}:${randomBytes(26).toString('base64url')}`;

export async function startTelegramEmulator(options: EmulatorOptions = {}): Promise<TelegramEmulator> {
  const token = options.token ?? DEFAULT_TEST_TOKEN;
  const bot = {
    id: Number(token.split(':')[0]),
    is_bot: true,
    first_name: 'VPN Test Bot',
    username: 'vpn_test_bot',
  };
  const core = new BotApiCore(bot);
  const recorder = new CallRecorder();
  const faults = new Faults(options.rateLimit ?? true, options.messagesPerSecond ?? 30);

  async function dispatch(
    method: string,
    params: Params,
    files: Record<string, Buffer>,
    signal: AbortSignal,
  ) {
    const call: RecordedCall = {
      method,
      params,
      at: Date.now(),
      ...(files.photo ? { photo: files.photo } : {}),
    };
    let status = 200;
    let body: Record<string, unknown>;
    try {
      faults.check(method, params);
      const handler = core.handlers[method];
      if (!handler) throw new ApiFailure(404, 'Not Found');
      body = { ok: true, result: await handler(params, { files, signal }) };
    } catch (err) {
      const failure = err instanceof ApiFailure ? err : new ApiFailure(500, `Internal Server Error: ${err}`);
      status = failure.errorCode;
      call.error = { error_code: failure.errorCode, description: failure.description };
      body = { ok: false, error_code: failure.errorCode, description: failure.description };
      if (failure.parameters) body.parameters = failure.parameters;
    }
    recorder.add(call);
    return { status, body };
  }

  const pusher = new WebhookPusher(core, async (method, params) => {
    await dispatch(method, params, {}, new AbortController().signal);
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(async (req, res) => {
    const match = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z]+)$/.exec(req.path);
    if (!match) return void res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
    if (decodeURIComponent(match[1]) !== token) {
      return void res.status(401).json({ ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort()); // a long poll ends when its client goes away
    let parsed: Awaited<ReturnType<typeof parseRequest>>;
    try {
      parsed = await parseRequest(req);
    } catch (err) {
      const f = err instanceof ApiFailure ? err : new ApiFailure(400, 'Bad Request');
      return void res
        .status(f.errorCode)
        .json({ ok: false, error_code: f.errorCode, description: f.description });
    }
    const { status, body } = await dispatch(match[2], parsed.params, parsed.files, abort.signal);
    if (match[2] === 'setWebhook' && status === 200) pusher.kick();
    if (!res.writableEnded && !res.destroyed) res.status(status).json(body);
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    bot,
    ...createInjector(core),
    failNext: (method, spec) => faults.failNext(method, spec),
    blockUser: (chatId) => void faults.blocked.add(chatId),
    unblockUser: (chatId) => void faults.blocked.delete(chatId),
    setRateLimit: (enabled, perSecond) => faults.setRateLimit(enabled, perSecond),
    calls: (method) => recorder.all.filter((c) => method === undefined || c.method === method),
    sentTo: (chatId) =>
      recorder.all.filter(
        (c) => BotApiCore.SEND_METHODS.has(c.method) && !c.error && Number(c.params.chat_id) === chatId,
      ),
    waitFor: (predicate, timeoutMs) => recorder.waitFor(predicate, timeoutMs),
    async waitForPolling(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!core.poller.polling) {
        if (Date.now() > deadline) throw new Error(`no getUpdates long poll within ${timeoutMs}ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    messages: (chatId) => core.chats.messages(chatId),
    webhookDeliveries: () => [...pusher.deliveries],
    pendingUpdates: () => core.updates.peek(100),
    async close() {
      pusher.stop();
      core.poller.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
