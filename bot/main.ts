import type { Telegraf } from 'telegraf';
import { t } from '../infra/i18n';
import { createLogger } from '../infra/logger';
import { createApiClient } from './api-client';
import { ConfigError, type BotConfig, loadBotConfig, scrubForeignSecrets } from './config';
import { createBot } from './create-bot';
import type { DispatchingBot } from './dispatching-bot';
import { ALLOWED_UPDATES, startWebhook } from './webhook';

/** `npm run bot`: the Telegram bot process, in polling (default) or webhook mode. */

function readConfig(): BotConfig {
  try {
    return loadBotConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

/** The command menu in Telegram's UI, in Russian by default and in English for English clients. */
async function setCommands(bot: Telegraf): Promise<void> {
  for (const lang of ['ru', 'en'] as const) {
    const m = t(lang);
    const commands = [
      { command: 'start', description: m.commands.start },
      { command: 'help', description: m.commands.help },
    ];
    await bot.telegram.setMyCommands(commands, lang === 'ru' ? {} : { language_code: lang });
  }
}

// How long a stopping bot lets queued updates finish (compose gives it 20 s before SIGKILL).
const DRAIN_MS = 15_000;

/** Stops taking updates, then waits (bounded) for the queued ones, so a deploy loses none. */
async function drain(bot: DispatchingBot, logger: ReturnType<typeof createLogger>): Promise<void> {
  const pending = bot.pending;
  if (pending > 0) logger.info({ pending }, 'finishing queued updates');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, DRAIN_MS);
  });
  await Promise.race([bot.idle(), timeout]);
  clearTimeout(timer);
  if (bot.pending > 0) logger.warn({ pending: bot.pending }, 'stopped with updates still queued');
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('bot');
  const foreign = scrubForeignSecrets(process.env);
  if (foreign.length > 0)
    logger.warn(
      { ignored: foreign },
      'the bot was given secrets it does not use; ignored and removed from its environment (give it only BOT_TOKEN, API_TOKEN, ADMIN_READ_TOKEN)',
    );
  const api = createApiClient({
    baseUrl: config.apiUrl,
    apiToken: config.apiToken,
    adminToken: config.adminReadToken,
    adminBotToken: config.adminBotToken,
  });
  const bot = createBot({
    token: config.botToken,
    apiRoot: config.apiRoot,
    api,
    supportUrl: config.supportUrl,
    adminIds: config.adminIds,
    logger,
    concurrency: config.concurrency,
    flood: config.flood,
    referralBonusDays: config.referralBonusDays,
  });

  // Fails fast (and clearly) on a wrong token or an unreachable TELEGRAM_API_ROOT.
  bot.botInfo = await bot.telegram.getMe();
  await setCommands(bot).catch((err) => logger.warn({ err }, 'setMyCommands failed'));

  if (config.mode === 'webhook' && config.webhook) {
    const hook = await startWebhook({ bot, ...config.webhook, logger });
    logger.info({ port: hook.port, username: bot.botInfo.username }, 'bot started (webhook)');
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping bot');
      // The webhook stays registered: a restarted or replacement process keeps receiving updates.
      void hook
        .close()
        .then(() => drain(bot, logger))
        .then(() => process.exit(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    return;
  }

  process.once('SIGINT', () => bot.stop('SIGINT'));
  process.once('SIGTERM', () => bot.stop('SIGTERM'));
  logger.info({ username: bot.botInfo.username }, 'bot started (polling)');
  // Resolves only when polling stops (a signal); rejects on 401/409, i.e. a wrong token or a second instance.
  await bot.launch({ allowedUpdates: [...ALLOWED_UPDATES] });
  await drain(bot, logger);
  logger.info('bot stopped');
}

main().catch((err: unknown) => {
  const e = err as { description?: string; message?: string };
  // One line, no stack: the telegraf error text already has the token redacted.
  process.stderr.write(`bot failed to start: ${e.description ?? e.message ?? String(err)}\n`);
  process.exit(1);
});
