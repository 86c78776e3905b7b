/**
 * YooKassa's Idempotence-Key rules: required on every POST, kept 24 h; the same key with the same
 * request replays the stored answer, the same key with another request is rejected.
 */
import { createHash } from 'node:crypto';
import { ApiError, invalid } from './emulator-validation';

export interface StoredAnswer {
  status: number;
  body: unknown;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_KEY_LENGTH = 64;

export function requireIdempotenceKey(header: string | undefined): string {
  if (!header) throw invalid('Idempotence-Key', 'Idempotence-Key header is required for POST requests');
  if (header.length > MAX_KEY_LENGTH) {
    throw invalid('Idempotence-Key', `Idempotence-Key is longer than ${MAX_KEY_LENGTH} characters`);
  }
  return header;
}

/** Same method, path and JSON body (key order ignored) give the same fingerprint. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body ?? {})}`)
    .digest('hex');
}

export function createIdempotencyStore(ttlMs = DAY_MS) {
  const entries = new Map<string, { fingerprint: string; answer: StoredAnswer; at: number }>();

  function prune(now: number): void {
    for (const [key, entry] of entries) {
      if (now - entry.at >= ttlMs) entries.delete(key);
    }
  }

  return {
    /** The stored answer for a replay, undefined for a new key; throws when the key was used differently. */
    lookup(key: string, fingerprint: string): StoredAnswer | undefined {
      prune(Date.now());
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.fingerprint !== fingerprint) {
        throw new ApiError(
          400,
          'invalid_request',
          'Idempotence key duplicated: it was already used with another request',
          'Idempotence-Key',
        );
      }
      return entry.answer;
    },
    remember(key: string, fingerprint: string, answer: StoredAnswer): void {
      entries.set(key, { fingerprint, answer, at: Date.now() });
    },
  };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    const record = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
