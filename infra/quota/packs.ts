import type { MikroORM } from '@mikro-orm/postgresql';
import { ALLOWANCE_SQL, USED_SQL } from './enforce';

export interface PackResult {
  added: boolean;
  reason?: 'not_a_pack' | 'no_active_subscription';
  subscriptionId?: string;
  bytes?: number;
}

/**
 * A paid traffic pack: its bytes are added to the current quota period of the buyer's active access,
 * once per payment (subscription_events_one_pack_per_payment), and a suspended access that is under its
 * allowance again is unsuspended in the same transaction. No active access = nothing bought: the purchase
 * refunds (the API refuses such a pack at create, so this is the race where the access ended meanwhile).
 */
export async function addTrafficPack(orm: MikroORM, paymentId: string): Promise<PackResult> {
  return orm.em.fork().transactional(async (em) => {
    const ctx = em.getTransactionContext();
    const q = (sql: string, params: unknown[] = []) => em.getConnection().execute(sql, params, 'all', ctx);
    const [p] = await q(
      `select p.user_id, p.purpose, t.kind, t.traffic_pack_bytes from payments p
         join tariffs t on t.id = p.tariff_id where p.id = ? for update of p`,
      [paymentId],
    );
    if (p?.purpose !== 'traffic_pack' || p.kind !== 'traffic_pack')
      return { added: false, reason: 'not_a_pack' };
    const bytes = Number(p.traffic_pack_bytes);
    const [done] = await q(
      `select subscription_id from subscription_events where payment_id = ? and type = 'traffic_pack_added'`,
      [paymentId],
    );
    if (done) return { added: true, subscriptionId: String(done.subscription_id), bytes };
    const [s] = await q(
      `select id from subscriptions where user_id = ? and status = 'active' and expires_at > now() for update`,
      [p.user_id],
    );
    if (!s) return { added: false, reason: 'no_active_subscription' };
    await q(
      `update subscriptions set traffic_extra_bytes = traffic_extra_bytes + ?, updated_at = now() where id = ?`,
      [bytes, s.id],
    );
    await q(
      `insert into subscription_events (subscription_id, payment_id, type, data) values (?, ?, 'traffic_pack_added', ?::jsonb)`,
      [s.id, paymentId, JSON.stringify({ bytes })],
    );
    const restored = await q(
      `update subscriptions s set suspended_at = null, updated_at = now() from tariffs t
        where s.id = ? and t.id = s.tariff_id and s.suspended_at is not null
          and (t.traffic_limit_bytes is null or ${USED_SQL} < ${ALLOWANCE_SQL})
       returning ${USED_SQL} as used, ${ALLOWANCE_SQL} as allowance`,
      [s.id],
    );
    if (restored.length)
      await q(
        `insert into subscription_events (subscription_id, payment_id, type, data) values (?, ?, 'traffic_restored', ?::jsonb)`,
        [
          s.id,
          paymentId,
          JSON.stringify({ used: Number(restored[0].used), allowance: Number(restored[0].allowance) }),
        ],
      );
    return { added: true, subscriptionId: String(s.id), bytes };
  });
}
