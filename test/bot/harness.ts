import { createApiClient } from '../../bot/api-client';
import { createBot } from '../../bot/create-bot';
import type { DispatchingBot } from '../../bot/dispatching-bot';
import { createLogger } from '../../infra/logger';
import { type FakeApi, startFakeApi } from '../support/fake-api';
import {
  type RecordedCall,
  startTelegramEmulator,
  type TelegramEmulator,
} from '../support/telegram-emulator';

/** The real bot, polling the Bot API emulator and talking to an HTTP API (the fake one unless told otherwise). */
export interface BotHarness {
  emu: TelegramEmulator;
  api: FakeApi;
  bot: DispatchingBot;
  /** JSON log lines the bot wrote (warn and above in tests). */
  logs: Array<Record<string, unknown>>;
  /** Index to pass to `emu.waitFor` predicates so only calls after this moment match. */
  mark(): number;
  /** Waits for the next successful call of `method` to `chatId` after `since`. */
  next(method: string, chatId: number, since: number, timeoutMs?: number): Promise<RecordedCall>;
  /** Waits for the next screen shown in `chatId` after `since`: a new message or an edited one. */
  screen(chatId: number, since: number, timeoutMs?: number): Promise<RecordedCall>;
  stop(): Promise<void>;
}

export const SUPPORT_URL = 'https://t.me/vpn_support_test';

export async function startBotHarness(
  opts: {
    apiUrl?: string;
    adminIds?: number[];
    concurrency?: number;
    flood?: { limit: number; cooldownMs: number };
    /** The bot's API client timeout (2 s by default, so "API down" tests are quick). */
    apiTimeoutMs?: number;
  } = {},
): Promise<BotHarness> {
  const emu = await startTelegramEmulator();
  const api = await startFakeApi();
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger('bot-test', { write: (line: string) => void logs.push(JSON.parse(line)) });
  const bot = createBot({
    token: emu.token,
    apiRoot: emu.url,
    api: createApiClient({
      baseUrl: opts.apiUrl ?? api.url,
      apiToken: api.apiToken,
      adminToken: api.adminToken,
      timeoutMs: opts.apiTimeoutMs ?? 2000,
    }),
    supportUrl: SUPPORT_URL,
    adminIds: opts.adminIds ?? [],
    logger,
    concurrency: opts.concurrency,
    flood: opts.flood,
  });
  const polling = bot.launch();
  await emu.waitForPolling();

  return {
    emu,
    api,
    bot,
    logs,
    mark: () => emu.calls().length,
    next: (method, chatId, since, timeoutMs = 5000) =>
      emu.waitFor(
        (c, i) => i >= since && c.method === method && !c.error && Number(c.params.chat_id) === chatId,
        timeoutMs,
      ),
    screen: (chatId, since, timeoutMs = 5000) =>
      emu.waitFor(
        (c, i) =>
          i >= since &&
          (c.method === 'sendMessage' || c.method === 'editMessageText') &&
          !c.error &&
          Number(c.params.chat_id) === chatId,
        timeoutMs,
      ),
    async stop() {
      bot.stop('test over');
      await polling;
      await emu.close();
      await api.close();
    },
  };
}
