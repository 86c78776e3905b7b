import { randomBytes } from 'node:crypto';

/** Unguessable subscription token: 24 random bytes (192 bits), URL-safe. */
export function newSubscriptionToken(): string {
  return randomBytes(24).toString('base64url');
}
