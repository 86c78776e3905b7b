import { BotApiCore } from './methods';
import { ApiFailure, type Params } from './state';

export interface FailSpec {
  code: 429 | 403 | 500 | 400 | 502;
  retry_after?: number;
  description?: string;
  /** Only fail a call addressed to this chat (chat_id or user_id). */
  chatId?: number;
}

const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden: bot was blocked by the user',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

const tooMany = (retryAfter: number, description?: string) =>
  new ApiFailure(429, description ?? `Too Many Requests: retry after ${retryAfter}`, {
    retry_after: retryAfter,
  });

/** Telegram's ways to refuse a call: injected one-off failures, blocked users and the global send limit. */
export class Faults {
  private readonly queued: Array<FailSpec & { method: string }> = [];
  readonly blocked = new Set<number>();
  private readonly rate: { enabled: boolean; perSecond: number; sends: number[] };

  constructor(rateLimit: boolean, perSecond: number) {
    this.rate = { enabled: rateLimit, perSecond, sends: [] };
  }

  failNext(method: string, spec: FailSpec): void {
    this.queued.push({ method, ...spec });
  }

  setRateLimit(enabled: boolean, perSecond?: number): void {
    this.rate.enabled = enabled;
    if (perSecond !== undefined) this.rate.perSecond = perSecond;
  }

  /** Throws the ApiFailure Telegram would answer with, if any, before the method runs. */
  check(method: string, params: Params): void {
    const injected = this.takeInjected(method, params);
    if (injected) throw injected;
    if (!BotApiCore.SEND_METHODS.has(method)) return;
    this.checkRate();
    if (this.blocked.has(Number(params.chat_id)))
      throw new ApiFailure(403, 'Forbidden: bot was blocked by the user');
  }

  private takeInjected(method: string, params: Params): ApiFailure | undefined {
    const target = Number(params.chat_id ?? params.user_id);
    const i = this.queued.findIndex(
      (f) => f.method === method && (f.chatId === undefined || f.chatId === target),
    );
    if (i < 0) return undefined;
    const [f] = this.queued.splice(i, 1);
    if (f.code === 429) return tooMany(f.retry_after ?? 3, f.description);
    return new ApiFailure(f.code, f.description ?? DEFAULT_DESCRIPTIONS[f.code] ?? 'Error');
  }

  // A sliding one-second window over accepted sends: ~30 messages/s per bot, like Telegram.
  private checkRate(): void {
    if (!this.rate.enabled) return;
    const now = Date.now();
    this.rate.sends = this.rate.sends.filter((s) => now - s < 1000);
    if (this.rate.sends.length >= this.rate.perSecond) {
      throw tooMany(Math.max(1, Math.ceil((this.rate.sends[0] + 1000 - now) / 1000)));
    }
    this.rate.sends.push(now);
  }
}
