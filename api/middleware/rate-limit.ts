import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { HttpError } from '../errors';
import type { Guard } from '../route-table';

export interface RateLimitOptions {
  /** Tokens added per second, per client; 0 turns the limit off. */
  perSecond: number;
  /** Bucket size: how many requests a client may send at once after being idle. */
  burst: number;
  /** Clock in ms (tests pass their own). */
  now?: () => number;
  /** Buckets kept at most; idle (full) ones are dropped first, so memory stays bounded. */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** An in-memory token bucket per key. One API replica = one budget; the numbers are per process. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxClients: number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? Date.now;
    this.maxClients = options.maxClients ?? 100_000;
  }

  /** 0 when the request may pass (and is counted), else the seconds to wait for the next token. */
  take(key: string): number {
    const { perSecond, burst } = this.options;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    if (!this.buckets.has(key)) this.makeRoom();
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }

  get size(): number {
    return this.buckets.size;
  }

  private makeRoom(): void {
    if (this.buckets.size < this.maxClients) return;
    const { perSecond, burst } = this.options;
    const now = this.now();
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
    // Still full: everyone is busy; forget the oldest entries (Map keeps insertion order).
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxClients) break;
      this.buckets.delete(key);
    }
  }
}

/** The client a bot-facing request speaks for: the Telegram user when the request names one, else token + IP. */
export function clientKey(input: { params?: unknown; body?: unknown }, req: Request): string {
  const named =
    (input.body as { telegram_id?: unknown } | undefined)?.telegram_id ??
    (input.params as { telegram_id?: unknown } | undefined)?.telegram_id;
  if (named !== undefined && named !== null) return `tg:${String(named)}`;
  const token = createHash('sha256')
    .update(req.get('authorization') ?? '')
    .digest('hex')
    .slice(0, 16);
  return `ip:${token}:${req.socket.remoteAddress ?? ''}`;
}

/** 429 `{"error":"rate_limited"}` with `Retry-After` once a client spends its bucket. */
export function rateLimit(options: RateLimitOptions): Guard {
  if (!(options.perSecond > 0)) return () => undefined;
  const buckets = new TokenBuckets(options);
  return (input, req, res) => {
    const wait = buckets.take(clientKey(input, req));
    if (wait === 0) return;
    res.set('retry-after', String(wait));
    throw new HttpError(429, 'rate_limited', `too many requests; retry in ${wait} s`);
  };
}
