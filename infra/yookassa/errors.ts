/**
 * Two failure classes, because the caller's next step differs:
 * - rejected (4xx): YooKassa looked at the request and said no. Retrying the same request is
 *   pointless; a changed request needs a new Idempotence-Key.
 * - unavailable (429, 5xx, network, timeout): the outcome is unknown. Retry with the SAME key
 *   (YooKassa replays the stored result) or GET the object.
 */

export abstract class YooKassaError extends Error {
  abstract readonly retryable: boolean;
}

export interface RejectionDetails {
  status: number;
  code: string;
  description?: string;
  parameter?: string;
  /** YooKassa's id of the error, useful when writing to their support. */
  errorId?: string;
}

export class YooKassaRejectedError extends YooKassaError {
  override readonly name = 'YooKassaRejectedError';
  readonly retryable = false;
  readonly status: number;
  readonly code: string;
  readonly description?: string;
  readonly parameter?: string;
  readonly errorId?: string;

  constructor(operation: string, details: RejectionDetails) {
    const where = details.parameter ? ` (parameter ${details.parameter})` : '';
    super(
      `YooKassa rejected ${operation}: ${details.status} ${details.code}${where}: ${details.description ?? ''}`,
    );
    this.status = details.status;
    this.code = details.code;
    this.description = details.description;
    this.parameter = details.parameter;
    this.errorId = details.errorId;
  }
}

export interface UnavailableDetails {
  /** HTTP status when YooKassa answered at all (429, 5xx); undefined for network errors and timeouts. */
  status?: number;
  code?: string;
  /** From Retry-After, when YooKassa sent one. */
  retryAfterMs?: number;
  timedOut?: boolean;
  cause?: unknown;
}

export class YooKassaUnavailableError extends YooKassaError {
  override readonly name = 'YooKassaUnavailableError';
  readonly retryable = true;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterMs?: number;
  readonly timedOut: boolean;

  constructor(operation: string, reason: string, details: UnavailableDetails = {}) {
    super(`YooKassa unavailable during ${operation}: ${reason}`, { cause: details.cause });
    this.status = details.status;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
    this.timedOut = details.timedOut ?? false;
  }
}

/** True only for failures where repeating the same request (same Idempotence-Key) is the right move. */
export function isRetryable(err: unknown): boolean {
  return err instanceof YooKassaError && err.retryable;
}
