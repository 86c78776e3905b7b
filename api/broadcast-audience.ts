import { z } from 'zod';

/** Contract v2: who a broadcast goes to. Filters combine with AND; users who blocked the bot are never included. */
export const audienceSchema = z
  .object({
    segment: z.enum(['all', 'active', 'expired', 'trial', 'never_paid']),
    expired_within_days: z.number().int().min(1).max(3650).optional(),
    language: z.string().min(2).max(8).optional(),
    location: z.string().min(1).max(64).optional(),
    telegram_ids: z
      .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
      .min(1)
      .max(100_000)
      .optional(),
  })
  .strict();
export type Audience = z.infer<typeof audienceSchema>;

const ACTIVE = `exists (select 1 from subscriptions s where s.user_id = u.id and s.status = 'active')`;
const PAID = `exists (select 1 from payments p where p.user_id = u.id and p.status in ('succeeded', 'refunded') and p.amount > 0)`;

/**
 * The audience as a WHERE clause on `users u` with its parameters.
 * - active: an access is running; expired: none runs and one ended within `expired_within_days` (default 30);
 * - trial: has had an access but never paid money for one (trials, gifts, free codes, admin grants);
 * - never_paid: no paid payment at all.
 */
export function audienceWhere(a: Audience): { where: string; params: unknown[] } {
  const parts = ['not u.is_blocked'];
  const params: unknown[] = [];
  if (a.segment === 'active') parts.push(ACTIVE);
  if (a.segment === 'expired') {
    parts.push(
      `not ${ACTIVE}`,
      `exists (select 1 from subscriptions s where s.user_id = u.id and s.status in ('expired', 'refunded') and s.expires_at > now() - make_interval(days => ?))`,
    );
    params.push(a.expired_within_days ?? 30);
  }
  if (a.segment === 'trial')
    parts.push(`exists (select 1 from subscriptions s where s.user_id = u.id)`, `not ${PAID}`);
  if (a.segment === 'never_paid') parts.push(`not ${PAID}`);
  if (a.language) {
    parts.push('lower(u.language) = lower(?)');
    params.push(a.language);
  }
  if (a.location) {
    parts.push(
      `exists (select 1 from subscriptions s join vpn_nodes n on n.id = s.node_id where s.user_id = u.id and s.status = 'active' and lower(n.location) = lower(?))`,
    );
    params.push(a.location);
  }
  if (a.telegram_ids) {
    parts.push(`u.telegram_id = any(string_to_array(?, ',')::bigint[])`);
    params.push(a.telegram_ids.join(','));
  }
  return { where: parts.join(' and '), params };
}
