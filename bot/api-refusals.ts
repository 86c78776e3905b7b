import { type Messages, t } from '../infra/i18n';
import { quotaEn, quotaRu } from '../infra/i18n/quota';
import { ApiRequestError, ApiUnavailableError } from './api-client';

/** The `error` code of a refusal body such as `{"error":"purchase_limit"}`. */
function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: unknown } | null | undefined)?.error;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The user-facing text for an API answer that refuses a purchase for a reason the user can act on, or
 * null for anything else (the caller rethrows, and bot.catch apologises).
 * - 429 purchase_limit: too many open payments (finish or wait); any other 429: per-user rate limit.
 * - 409 location_mismatch: an access in another location is active, so this tariff cannot extend it.
 * - 409 no_active_subscription: a traffic pack needs an active access to add to.
 * - 503: the payment provider is down or its circuit is open (the API fails fast).
 */
export function purchaseRefusalText(err: unknown, m: Messages): string | null {
  if (err instanceof ApiUnavailableError) return err.status === 503 ? m.errors.providerDown : null;
  if (!(err instanceof ApiRequestError)) return null;
  const code = errorCode(err.body);
  if (err.status === 429) return code === 'purchase_limit' ? m.errors.purchaseLimit : m.errors.rateLimited;
  if (err.status === 409 && code === 'location_mismatch') return m.errors.locationMismatch;
  if (err.status === 409 && code === 'no_active_subscription')
    return (m === t('en') ? quotaEn : quotaRu).packNeedsAccess;
  return null;
}

/** A 429 on any call: the API's per-client limit. */
export const isRateLimited = (err: unknown) => err instanceof ApiRequestError && err.status === 429;
