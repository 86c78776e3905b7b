import assert from 'node:assert/strict';
import type { Telegraf } from 'telegraf';
import { createApiClient } from '../../bot/api-client';
import { createBot } from '../../bot/create-bot';
import { ALLOWED_UPDATES, startWebhook, type WebhookServer } from '../../bot/webhook';
import { parseDurationList } from '../../infra/duration';
import { createLogger } from '../../infra/logger';
import { createYooKassaClient } from '../../infra/yookassa/client';
import { ADMIN_TOKEN, API_TOKEN, type ApiHarness, startApi } from '../api/harness';

const JOURNEY_ADMIN_READ_TOKEN = 'journey-admin-read-token-0123456789';
import { PurchaseSystem, type SystemOptions } from './system';
import type { RecordedCall, TelegramEmulator } from './telegram-emulator';

/**
 * The WHOLE system, wired like production and driven like a person would drive it:
 *
 *   Telegram user (the Bot API emulator) → the real bot (telegraf) → the real API (express, on a port)
 *   → Temporal (real dev server) → the real workers (purchases + the rate-limited telegram queue)
 *   → YooKassa (emulator, whose webhooks go to the API), PostgreSQL (a fresh database), Xray + node agent.
 *
 * The only shortcuts are the two SaaS emulators; nothing in the product knows it is under test.
 */

export const SUPPORT_URL = 'https://t.me/vpn_support_journey';
export const PUBLIC_BASE_URL = 'http://vpn.test';

export interface JourneyOptions {
  /** REMIND_BEFORE for both the API and the worker (the worker's copy is what lifetimes use). */
  remindBefore?: string;
  /** PAYMENT_TIMEOUT of the API: how long a payment page stays payable. */
  paymentTimeout?: string;
  adminIds?: number[];
  /** The bot's ADMIN_BOT_TOKEN (give the API the same as `bot:` in apiEnv.ADMIN_TOKENS). */
  adminBotToken?: string;
  /** How the bot gets its updates; 'none' runs no bot at all. */
  botMode?: 'polling' | 'webhook' | 'none';
  /** Secret for webhook mode. */
  webhookSecret?: string;
  /** Start a real Xray node (default true). */
  withNode?: boolean;
  /** Start the workers with the rest (default true); false to start them later with `sys.startWorkers()`. */
  workers?: boolean;
  /** TRIAL_DURATION of the API; default "0" (off), so /start shows the plain menu these journeys expect. */
  trialDuration?: string;
  /** Extra API settings (e.g. GIFT_CLAIM_WINDOW) and the workers' referral/gift settings. */
  apiEnv?: Record<string, string>;
  growth?: SystemOptions['growth'];
}

/** Screens a user sees: a new message, an edited one, an invoice or a photo. */
const SCREEN_METHODS = new Set(['sendMessage', 'editMessageText', 'sendInvoice', 'sendPhoto']);

export async function until<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const textOf = (call: RecordedCall): string => String(call.params.text ?? call.params.caption ?? '');

/** The inline keyboard of a recorded send/edit, flattened. */
export function buttonsOf(call: RecordedCall): Array<{ text: string; url?: string; callback_data?: string }> {
  const markup = call.params.reply_markup as
    | { inline_keyboard?: Array<Array<{ text: string; url?: string; callback_data?: string }>> }
    | string
    | undefined;
  const parsed = typeof markup === 'string' ? JSON.parse(markup) : markup;
  return parsed?.inline_keyboard?.flat() ?? [];
}

export class Journey {
  readonly sys: PurchaseSystem;
  api!: ApiHarness;
  bot?: Telegraf;
  hook?: WebhookServer;
  /** Where Telegram (the emulator) pushes updates in webhook mode. */
  hookUrl?: string;
  /** JSON log lines the bot wrote. */
  readonly botLogs: Array<Record<string, unknown>> = [];
  private polling?: Promise<void>;
  readonly remindBeforeMs: number[];

  constructor(readonly options: JourneyOptions = {}) {
    this.remindBeforeMs = parseDurationList(options.remindBefore ?? '5s');
    this.sys = new PurchaseSystem({
      remindBeforeMs: this.remindBeforeMs,
      withNode: options.withNode,
      growth: options.growth,
    });
  }

  get emu(): TelegramEmulator {
    return this.sys.telegram;
  }

  async start(): Promise<this> {
    await this.sys.start();
    if (this.options.workers !== false) await this.sys.startWorkers();

    // The API, configured like production: its own YooKassa client, our queues, our durations.
    const yookassa = createYooKassaClient({
      apiUrl: this.sys.yookassa.url,
      shopId: this.sys.shopId,
      secretKey: this.sys.secretKey,
      returnUrl: `${PUBLIC_BASE_URL}/return`,
      timeoutMs: 3000,
    });
    this.api = await startApi({
      db: { url: this.sys.databaseUrl, orm: this.sys.orm },
      yookassa,
      env: {
        PURCHASES_TASK_QUEUE: this.sys.queue,
        PUBLIC_BASE_URL,
        REMIND_BEFORE: this.options.remindBefore ?? '5s',
        PAYMENT_TIMEOUT: this.options.paymentTimeout ?? '2m',
        TRIAL_DURATION: this.options.trialDuration ?? '0',
        YOOKASSA_WEBHOOK_ALLOW: '127.0.0.1/32,::1/128,::ffff:127.0.0.1/128',
        TELEGRAM_API_ROOT: this.emu.url,
        SUPPORT_URL,
        ADMIN_READ_TOKEN: JOURNEY_ADMIN_READ_TOKEN,
        ...this.options.apiEnv,
      },
    });
    // YooKassa notifies the API, as configured in the shop's settings.
    this.sys.yookassa.setWebhookUrl(`${this.api.url}/api/v1/payments/webhook`);

    const mode = this.options.botMode ?? 'polling';
    if (mode !== 'none') await this.startBot(mode);
    return this;
  }

  private async startBot(mode: 'polling' | 'webhook'): Promise<void> {
    const logger = createLogger('journey-bot', {
      write: (line: string) => void this.botLogs.push(JSON.parse(line)),
    });
    const bot = createBot({
      token: this.emu.token,
      apiRoot: this.emu.url,
      // As in production: the bot's admin screens get the read-only token, never ADMIN_TOKEN.
      api: createApiClient({
        baseUrl: this.api.url,
        apiToken: API_TOKEN,
        adminToken: JOURNEY_ADMIN_READ_TOKEN,
        adminBotToken: this.options.adminBotToken,
      }),
      supportUrl: SUPPORT_URL,
      adminIds: this.options.adminIds ?? [],
      logger,
    });
    this.bot = bot;
    if (mode === 'webhook') {
      const secret = this.options.webhookSecret ?? 'journey_webhook_secret';
      bot.botInfo = await bot.telegram.getMe();
      this.hook = await startWebhook({
        bot,
        url: (port) => `http://127.0.0.1:${port}/telegram/webhook`,
        secret,
        port: 0,
        host: '127.0.0.1',
        logger,
      });
      this.hookUrl = `http://127.0.0.1:${this.hook.port}/telegram/webhook`;
      return;
    }
    // Exactly what `npm run bot` does in polling mode.
    this.polling = bot.launch({ allowedUpdates: [...ALLOWED_UPDATES] });
    await this.emu.waitForPolling(10_000);
  }

  async stop(): Promise<void> {
    if (this.polling) {
      this.bot?.stop('journey over');
      await this.polling.catch(() => undefined);
    }
    await this.hook?.close();
    await this.api?.close();
    await this.sys.stop();
  }

  /** Index into the emulator's call log: `since` for waits that must only see later calls. */
  mark(): number {
    return this.emu.calls().length;
  }

  /** The next successful screen-like call to `chatId` after `since` matching `where`. */
  next(
    chatId: number,
    since: number,
    where: { method?: string | string[]; text?: RegExp } = {},
    timeoutMs = 10_000,
  ): Promise<RecordedCall> {
    return this.emu.waitFor(
      (c, i) =>
        i >= since &&
        !c.error &&
        (where.method ? [where.method].flat().includes(c.method) : SCREEN_METHODS.has(c.method)) &&
        Number(c.params.chat_id) === chatId &&
        (!where.text || where.text.test(textOf(c))),
      timeoutMs,
    );
  }

  user(chatId: number, profile: { first_name?: string; username?: string; language_code?: string } = {}) {
    return new JourneyUser(this, chatId, { first_name: 'Alex', language_code: 'en', ...profile });
  }

  /** An operator creating a tariff through the admin API (e.g. duration "PT20S" for an end-to-end run). */
  async createTariff(body: {
    slug: string;
    name: string;
    price: string;
    duration: string;
    star_price?: number | null;
    display_order?: number;
  }): Promise<{ id: number; slug: string; name: string; price: string; star_price: number | null }> {
    const res = await this.api.call('POST', '/api/v1/admin/tariffs', {
      token: ADMIN_TOKEN,
      body: { currency: 'RUB', description: `${body.name} (journey test)`, ...body },
    });
    assert.equal(res.status, 201, `tariff ${body.slug}: ${res.text}`);
    return res.body;
  }

  /** What the bot-facing status API says (what "My subscription" is built from). */
  async status(telegramId: number) {
    const res = await this.api.call('GET', `/api/v1/subscriptions/${telegramId}/status`);
    assert.equal(res.status, 200, res.text);
    return res.body as {
      has_active_subscription: boolean;
      subscription_id: string | null;
      status: string | null;
      end_date: string | null;
      days_remaining: number;
      last_payment_status: string | null;
    };
  }

  /** The buyer's browser: opens the YooKassa page from confirmation_url and presses Pay. */
  async payOnPage(confirmationUrl: string): Promise<void> {
    await this.checkoutAction(confirmationUrl, 'pay');
  }

  /** The buyer's bank says no: the Decline form of the page, with a cancellation reason. */
  async declineOnPage(confirmationUrl: string, reason: string): Promise<void> {
    await this.checkoutAction(confirmationUrl, 'decline', { reason });
  }

  private async checkoutAction(url: string, action: 'pay' | 'decline', form: Record<string, string> = {}) {
    const page = await fetch(url);
    const html = await page.text();
    assert.equal(page.status, 200, `the payment page ${url} opens`);
    const formAction = new RegExp(`action="([^"]*/${action})"`).exec(html)?.[1];
    assert.ok(formAction, `the payment page has a ${action} form`);
    const res = await fetch(new URL(formAction.replace(/&#47;/g, '/'), url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    // Like YooKassa: back to the shop's return_url once the payment is decided.
    assert.equal(res.status, 303, `${action} on the page: ${res.status} ${await res.text()}`);
    assert.ok(res.headers.get('location'), 'redirected to the return_url');
  }

  /** Client emails the real node carries right now. */
  nodeClients(): Promise<string[]> {
    return this.sys.nodeClients();
  }

  // biome-ignore lint/suspicious/noExplicitAny: raw rows from SQL
  sql(query: string, params: unknown[] = []): Promise<Array<Record<string, any>>> {
    return this.sys.orm.em.getConnection().execute(query, params);
  }
}

/** One Telegram user in their chat with the bot: sends commands, taps buttons, counts the taps. */
export class JourneyUser {
  /** Every tap: callback buttons and URL buttons alike. */
  taps = 0;

  constructor(
    readonly journey: Journey,
    readonly id: number,
    readonly profile: { first_name?: string; username?: string; language_code?: string },
  ) {}

  private get emu() {
    return this.journey.emu;
  }

  /** /start: the reply with the main menu. */
  async start(payload?: string): Promise<RecordedCall> {
    const since = this.journey.mark();
    this.emu.injectCommand(this.id, 'start', payload, this.profile);
    return this.journey.next(this.id, since, { method: 'sendMessage' });
  }

  async command(command: string, args?: string): Promise<number> {
    const since = this.journey.mark();
    this.emu.injectCommand(this.id, command, args, this.profile);
    return since;
  }

  /** Taps a callback button in the latest keyboard and waits for the screen it leads to. */
  async tap(button: string | RegExp, expect: { method?: string; text?: RegExp } = {}): Promise<RecordedCall> {
    const since = this.journey.mark();
    const tapped = this.emu.tapButton(this.id, button);
    assert.ok(tapped.callbackId, `"${tapped.text}" is a callback button`);
    this.taps++;
    const screen = await this.journey.next(this.id, since, expect);
    // The spinner on the button stops: the bot answered the callback query.
    await this.emu.waitFor(
      (c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === tapped.callbackId,
    );
    return screen;
  }

  /** Taps a URL button: Telegram opens the link; returns it. */
  openUrl(button: string | RegExp): string {
    const tapped = this.emu.tapButton(this.id, button);
    assert.ok(tapped.url, `"${tapped.text}" is a URL button`);
    this.taps++;
    return tapped.url;
  }

  /** Successful sends to this chat (messages, photos, invoices), in order. */
  received(): RecordedCall[] {
    return this.emu.sentTo(this.id);
  }

  /** Waits for a message (after `since`) whose text matches: a text message, or a photo's caption (the key). */
  waitMessage(text: RegExp, since = 0, timeoutMs = 20_000): Promise<RecordedCall> {
    return this.journey.next(this.id, since, { method: ['sendMessage', 'sendPhoto'], text }, timeoutMs);
  }

  /**
   * The card journey a buyer makes from the main menu (or a Renew screen already shown):
   * [Plans] → tariff → Card → the URL button's page. Returns the confirmation_url.
   */
  async chooseCard(tariffButton: RegExp, opts: { fromMenu?: boolean } = { fromMenu: true }): Promise<string> {
    if (opts.fromMenu !== false) await this.tap('💳 Plans', { text: /Choose a plan/ });
    await this.tap(tariffButton, { text: /How would you like to pay/ });
    const invoice = await this.tap('💳 Card (YooKassa)', { text: /An invoice for/ });
    assert.ok(
      buttonsOf(invoice).some((b) => b.url),
      'the payment screen carries a URL button to the payment page',
    );
    return this.openUrl('➡️ Go to payment');
  }
}
