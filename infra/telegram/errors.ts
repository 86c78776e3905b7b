/**
 * Typed Telegram Bot API failures, so callers (the notifier activities) decide retry vs give up by class,
 * never by parsing descriptions themselves.
 */

/** Telegram's error body: `{ok:false, error_code, description, parameters?}`. */
export interface TelegramErrorBody {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export abstract class TelegramSendError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    readonly method: string,
    readonly code: number,
    readonly description: string,
  ) {
    super(`Telegram ${method} failed: ${code} ${description}`);
    this.name = new.target.name;
  }
}

/** 429: wait `retryAfterSec` before the next call. */
export class TelegramRateLimitedError extends TelegramSendError {
  readonly retryable = true;
  constructor(
    method: string,
    description: string,
    readonly retryAfterSec: number,
  ) {
    super(method, 429, description);
  }
}

/** The user blocked the bot, was deactivated, or the chat does not exist: stop messaging them. */
export class TelegramBlockedError extends TelegramSendError {
  readonly retryable = false;
}

/** Any other 4xx: the request itself is wrong; repeating it cannot help. */
export class TelegramRejectedError extends TelegramSendError {
  readonly retryable = false;
}

/** 5xx, network failure or timeout: Telegram may accept the same call later. */
export class TelegramUnavailableError extends TelegramSendError {
  readonly retryable = true;
}

// 400 descriptions that mean "this recipient is gone" rather than "your request is malformed".
const GONE_RECIPIENT = /chat not found|user is deactivated|bot was blocked|bot was kicked|PEER_ID_INVALID/i;

/** Maps an error response (HTTP status + body, if it parsed) to one of the typed errors. */
export function classifyTelegramError(
  method: string,
  httpStatus: number,
  body: Partial<TelegramErrorBody> | undefined,
): TelegramSendError {
  const code = body?.error_code ?? httpStatus;
  const description = body?.description ?? `HTTP ${httpStatus}`;
  if (code === 429) {
    // Telegram always sends retry_after with 429; 1s is a safe floor if a proxy stripped it.
    return new TelegramRateLimitedError(method, description, body?.parameters?.retry_after ?? 1);
  }
  if (code === 403 || (code === 400 && GONE_RECIPIENT.test(description))) {
    return new TelegramBlockedError(method, code, description);
  }
  if (code >= 400 && code < 500) return new TelegramRejectedError(method, code, description);
  return new TelegramUnavailableError(method, code, description);
}
