import type { MikroORM } from '@mikro-orm/postgresql';
import { iso, sqlOne } from './db';

// What the user sees and switches about auto-renew (issue 13): on/off, the next charge date and the method.
// The charging itself is the lifetime workflow's (workflows/subscription/auto-renew.ts); it re-reads the switch
// before every attempt, so turning it off takes effect before the next charge.

export interface AutoRenewView {
  auto_renewal: boolean;
  /** When the next automatic charge is tried: AUTO_RENEW_BEFORE before the end (now, if that is past). */
  next_charge_at: string | null;
  /** What it charges: `card` (a saved YooKassa method), `balance` (no card saved), `stars` (a Stars
   * subscription: Telegram charges), or null when off. */
  method: 'card' | 'balance' | 'stars' | null;
}

export async function autoRenewView(orm: MikroORM, userId: string, beforeMs: number): Promise<AutoRenewView> {
  const row = await sqlOne(
    orm,
    `select a.enabled, a.payment_method_id, s.expires_at,
            (select ss.expires_at from stars_subscriptions ss where ss.user_id = u.id and ss.status = 'active'
              order by ss.created_at desc limit 1) as stars_next_charge
       from users u left join auto_renew_settings a on a.user_id = u.id
       left join subscriptions s on s.user_id = u.id and s.status = 'active' and s.expires_at > now()
      where u.id = ?`,
    [userId],
  );
  if (!row?.enabled) return { auto_renewal: false, next_charge_at: null, method: null };
  // A Stars subscription: Telegram charges at its subscription_expiration_date, not AUTO_RENEW_BEFORE early.
  if (row.stars_next_charge !== null && row.stars_next_charge !== undefined)
    return { auto_renewal: true, next_charge_at: iso(new Date(row.stars_next_charge)), method: 'stars' };
  const method = row.payment_method_id ? 'card' : 'balance';
  if (!row.expires_at) return { auto_renewal: true, next_charge_at: null, method };
  const next = Math.max(new Date(row.expires_at).getTime() - beforeMs, Date.now());
  return { auto_renewal: true, next_charge_at: iso(new Date(next)), method };
}

/** Switches auto-renew; the saved card (if any) stays on file so switching back on needs no new payment. */
export async function setAutoRenew(orm: MikroORM, userId: string, enabled: boolean): Promise<void> {
  await orm.em.getConnection().execute(
    `insert into auto_renew_settings (user_id, enabled) values (?, ?)
     on conflict (user_id) do update set enabled = excluded.enabled, updated_at = now()`,
    [userId, enabled],
  );
}
