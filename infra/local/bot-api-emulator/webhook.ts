import type { BotApiCore } from './methods';
import { now, type Params } from './state';

export interface WebhookDelivery {
  updateId: number;
  /** HTTP status the bot answered, or 0 when the connection failed. */
  status: number;
  at: number;
}

/**
 * Pushes pending updates to the URL given in setWebhook, like Telegram: one POST per update with the
 * `X-Telegram-Bot-Api-Secret-Token` header, retried with backoff until the bot answers 2xx.
 * A JSON body with a `method` field in the bot's answer is executed as a Bot API call (webhook reply).
 */
export class WebhookPusher {
  readonly deliveries: WebhookDelivery[] = [];
  private running = false;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly core: BotApiCore,
    private readonly onReply: (method: string, params: Params) => Promise<void>,
  ) {
    core.updates.subscribe(() => this.kick());
  }

  kick(): void {
    if (this.running || this.stopped || !this.core.webhook) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private async loop(): Promise<void> {
    let backoffMs = 100;
    while (!this.stopped && this.core.webhook && this.core.updates.size > 0) {
      const { url, secretToken } = this.core.webhook;
      const [update] = this.core.updates.peek(1);
      let status = 0;
      let body = '';
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(secretToken ? { 'X-Telegram-Bot-Api-Secret-Token': secretToken } : {}),
          },
          body: JSON.stringify(update),
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(60_000)]),
        });
        status = res.status;
        body = await res.text();
      } catch {
        if (this.stopped) return;
      }
      this.deliveries.push({ updateId: update.update_id, status, at: Date.now() });
      if (status >= 200 && status < 300) {
        this.core.updates.remove(update.update_id);
        backoffMs = 100;
        await this.executeReply(body);
        continue;
      }
      this.core.webhookError = {
        date: now(),
        message: status ? `Wrong response from the webhook: ${status}` : 'Connection refused',
      };
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 2000);
    }
  }

  private async executeReply(body: string): Promise<void> {
    if (!body.trim().startsWith('{')) return;
    try {
      const { method, ...params } = JSON.parse(body) as Params;
      if (typeof method === 'string') await this.onReply(method, params);
    } catch {
      // Telegram ignores an unparsable webhook answer too.
    }
  }
}
