import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { iso, sqlOne } from './db';

// The `trial` field of GET /subscriptions/{telegram_id}/status (contract v2): where this user stands with the
// one free trial, so the bot can offer it, show it running, or say it has become the paid access.

export const trialStatusField = {
  trial: z
    .object({
      state: z
        .enum(['available', 'active', 'converted', 'ended', 'unavailable'])
        .describe(
          '`available`: may still take it (POST /trials); `active`: the current access is the unpaid trial; ' +
            '`converted`: a payment turned the trial into the paid access (same key); `ended`: the trial ran out ' +
            'unpaid; `unavailable`: trials are off, or the user had another access first',
        ),
      end_date: z.string().nullable().describe("the trial access's end while `active`, else null"),
      duration_seconds: z.number().int().describe('TRIAL_DURATION; 0 when trials are off'),
    })
    .describe('the free trial (one per user, ever)'),
};
export type TrialStatus = z.infer<(typeof trialStatusField)['trial']>;

export async function trialStatus(
  orm: MikroORM,
  userId: string,
  trialDurationMs: number,
): Promise<TrialStatus> {
  const durationSeconds = Math.max(0, Math.ceil(trialDurationMs / 1000));
  const row = await sqlOne(
    orm,
    `select t.subscription_id, s.status, coalesce(s.expires_at, t.ends_at) as expires_at,
            exists (select 1 from subscription_events e where e.subscription_id = t.subscription_id
                      and e.type = 'extended' and e.payment_id is not null) as converted
       from trials t left join subscriptions s on s.id = t.subscription_id where t.user_id = ?`,
    [userId],
  );
  if (!row) {
    const had = await sqlOne(orm, `select 1 from subscriptions where user_id = ? limit 1`, [userId]);
    const state = durationSeconds > 0 && !had ? 'available' : 'unavailable';
    return { state, end_date: null, duration_seconds: durationSeconds };
  }
  if (row.converted) return { state: 'converted', end_date: null, duration_seconds: durationSeconds };
  // A trial just granted has no access row for a moment: it counts as running.
  const running = !row.status || (row.status === 'active' && new Date(row.expires_at).getTime() > Date.now());
  return running
    ? { state: 'active', end_date: iso(row.expires_at), duration_seconds: durationSeconds }
    : { state: 'ended', end_date: null, duration_seconds: durationSeconds };
}
