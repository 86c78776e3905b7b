import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Telegraf } from 'telegraf';
import type { Update } from 'telegraf/types';
import { t, langFor } from '../infra/i18n';
import { ChatQueues } from './chat-queues';
import { FloodControl, type FloodOptions, isMoneyUpdate } from './flood-control';

/**
 * A Telegraf whose `handleUpdate` only queues the update and returns, so neither the polling loop (which
 * awaits a whole batch before fetching the next) nor a webhook call waits for a slow handler. Updates of
 * one chat keep their order; chats run side by side up to `concurrency`; a pre-checkout query runs at once.
 *
 * Trade-off: an update counts as delivered once queued. A crash (not a stop: `idle()` drains) loses the
 * updates still queued, where before Telegram would have redelivered the batch in flight.
 */

export interface DispatchOptions {
  /** Chats handled at the same time; the rest wait their turn. */
  concurrency: number;
  flood: Omit<FloodOptions, 'now'>;
  logger: Logger;
}

type AnyUpdate = Update & {
  message?: { chat: { id: number }; from?: { id: number; language_code?: string } };
  callback_query?: {
    id: string;
    from: { id: number; language_code?: string };
    message?: { chat: { id: number } };
  };
};

/** The line an update waits in: its chat. Pre-checkout queries have no chat and wait in none. */
function chatKey(update: AnyUpdate): string | undefined {
  if ('pre_checkout_query' in update) return undefined;
  if (update.message) return `chat:${update.message.chat.id}`;
  if (update.callback_query)
    return `chat:${update.callback_query.message?.chat.id ?? update.callback_query.from.id}`;
  const from = Object.values(update).find(
    (v): v is { from: { id: number } } => typeof v === 'object' && v !== null && 'from' in v,
  );
  return from ? `user:${from.from.id}` : 'other';
}

function sender(update: AnyUpdate) {
  return update.message?.from ?? update.callback_query?.from;
}

export class DispatchingBot extends Telegraf {
  private readonly queues: ChatQueues;
  private readonly flood: FloodControl;
  private readonly logger: Logger;

  constructor(token: string, telegrafOptions: Partial<Telegraf.Options<never>>, options: DispatchOptions) {
    super(token, telegrafOptions);
    this.logger = options.logger;
    this.flood = new FloodControl(options.flood);
    this.queues = new ChatQueues(options.concurrency, (err) =>
      this.logger.error({ err }, 'update handler failed outside bot.catch'),
    );
  }

  /** Queues the update and returns at once (telegraf's own webhook, with a response to write, is served inline). */
  override async handleUpdate(update: Update, webhookResponse?: ServerResponse): Promise<void> {
    if (webhookResponse) return super.handleUpdate(update, webhookResponse);
    void this.enqueue(update);
  }

  /** Queues one update; the promise settles when it has been handled or dropped. */
  enqueue(update: Update): Promise<void> {
    const u = update as AnyUpdate;
    const from = sender(u);
    if (from && !isMoneyUpdate(u)) {
      const verdict = this.flood.check(from.id);
      if (verdict === 'drop') return Promise.resolve();
      if (verdict === 'warn') return this.slowDown(u, from);
    }
    return this.queues.push(chatKey(u), () => super.handleUpdate(update));
  }

  /** Updates queued or being handled. */
  get pending(): number {
    return this.queues.size;
  }

  /** Resolves once every queued update has been handled (call after `stop()` so no new ones arrive). */
  idle(): Promise<void> {
    return this.queues.idle();
  }

  private async slowDown(update: AnyUpdate, from: { id: number; language_code?: string }): Promise<void> {
    const text = t(langFor(from.language_code)).errors.slowDown;
    this.logger.warn({ telegramId: from.id }, 'flood control: user slowed down');
    try {
      if (update.callback_query) await this.telegram.answerCbQuery(update.callback_query.id, text);
      else if (update.message) await this.telegram.sendMessage(update.message.chat.id, text);
    } catch (err) {
      this.logger.warn({ telegramId: from.id, err: (err as Error).message }, 'could not send slow-down');
    }
  }
}
