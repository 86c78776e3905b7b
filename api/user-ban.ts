import type { Row } from './db';
import { HttpError } from './errors';

/**
 * An operator blocked this user (`POST /api/v1/admin/users/{id}/block`): nothing new may be bought or granted
 * to them. 403 `user_blocked`, which the bot shows as a refusal. Call it wherever a user starts a purchase.
 */
export function refuseBannedUser(user: Row): void {
  if (user.banned_at)
    throw new HttpError(403, 'user_blocked', 'this account is blocked by the operator; contact support');
}
