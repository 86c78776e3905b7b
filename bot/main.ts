import type { Telegraf } from 'telegraf';
import { t } from '../infra/i18n';
import { createLogger } from '../infra/logger';
import { createApiClient } from './api-client';
import { ConfigError, type BotConfig, loadBotConfig } from './config';
import { createBot } from './create-bot';
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

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('bot');
  const api = createApiClient({
    baseUrl: config.apiUrl,
    apiToken: config.apiToken,
    adminToken: config.adminToken,
  });
  const bot = createBot({
    token: config.botToken,
    apiRoot: config.apiRoot,
    api,
    supportUrl: config.supportUrl,
    adminIds: config.adminIds,
    logger,
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
      void hook.close().then(() => process.exit(0));
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
  logger.info('bot stopped');
}

main().catch((err: unknown) => {
  const e = err as { description?: string; message?: string };
  // One line, no stack: the telegraf error text already has the token redacted.
  process.stderr.write(`bot failed to start: ${e.description ?? e.message ?? String(err)}\n`);
  process.exit(1);
});
