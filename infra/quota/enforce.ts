import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * The quota rules, in PostgreSQL (one transaction per round, so a crash leaves all or nothing):
 *
 * 1. Period rollover. Each active access's current quota period has a key: `never`; `monthly` = the
 *    calendar month in UTC (`2026-12`); `period` = the latest grant of the access (its activation or
 *    last renewal, `g<event id>`). A new key zeroes the period's usage and its traffic packs.
 * 2. Suspend: used (period upload + download) >= traffic_limit_bytes + packs → suspended_at is set.
 * 3. Restore: suspended but under the limit again (a reset, a pack, a bigger plan) → suspended_at cleared.
 *
 * Every suspension and restore writes a subscription event and a quota_notices row (the outbox the
 * quota workflow works through: take the clients off / put them back, then tell the user once).
 */
export interface QuotaNotice {
  id: string;
  kind: 'traffic_exhausted' | 'traffic_restored';
  subscriptionId: string;
  telegramId: string;
  language: string;
}

export interface EnforceResult {
  reset: number;
  suspended: number;
  restored: number;
  /** Every notice not yet handled (this round's and any a crash left behind), oldest first. */
  pending: QuotaNotice[];
}

/** SQL for the key of an access's current quota period (s = subscription, t = tariff). */
export const PERIOD_KEY_SQL = `case t.traffic_reset
    when 'monthly' then to_char(now() at time zone 'UTC', 'YYYY-MM')
    when 'period' then 'g' || coalesce((select max(e.id) from subscription_events e
      where e.subscription_id = s.id and e.type in ('activated', 'extended'))::text, '0')
    else 'never' end`;

/** The allowance of the period (null = unlimited). */
export const ALLOWANCE_SQL = `t.traffic_limit_bytes + s.traffic_extra_bytes`;
export const USED_SQL = `s.period_upload_bytes + s.period_download_bytes`;

export async function enforceQuota(orm: MikroORM): Promise<EnforceResult> {
  return orm.em.fork().transactional(async (em) => {
    const ctx = em.getTransactionContext();
    const q = (sql: string, params: unknown[] = []) => em.getConnection().execute(sql, params, 'all', ctx);

    // 1. Rollover. A first look at an access only records its key (its usage so far is this period's).
    const rolled = await q(
      `with cur as (
         select s.id, ${PERIOD_KEY_SQL} as key from subscriptions s join tariffs t on t.id = s.tariff_id
          where s.status = 'active' for update of s)
       update subscriptions s
          set traffic_period = cur.key,
              period_upload_bytes = case when s.traffic_period is null then s.period_upload_bytes else 0 end,
              period_download_bytes = case when s.traffic_period is null then s.period_download_bytes else 0 end,
              traffic_extra_bytes = case when s.traffic_period is null then s.traffic_extra_bytes else 0 end
         from cur where s.id = cur.id and s.traffic_period is distinct from cur.key
       returning s.id, s.traffic_period as key, (s.traffic_period is not null) as was_reset`,
    );
    const resets = rolled.filter((r) => r.was_reset);
    for (const r of resets)
      await q(
        `insert into subscription_events (subscription_id, type, data) values (?, 'traffic_reset', ?::jsonb)`,
        [r.id, JSON.stringify({ period: r.key })],
      );

    // 2. Suspend what crossed its allowance.
    const suspended = await q(
      `update subscriptions s set suspended_at = now(), updated_at = now() from tariffs t
        where t.id = s.tariff_id and s.status = 'active' and s.suspended_at is null
          and t.traffic_limit_bytes is not null and ${USED_SQL} >= ${ALLOWANCE_SQL}
       returning s.id, ${USED_SQL} as used, ${ALLOWANCE_SQL} as allowance`,
    );
    // 3. Restore what is under its allowance again (or unlimited, or no longer active: nothing to cut).
    const restored = await q(
      `update subscriptions s set suspended_at = null, updated_at = now() from tariffs t
        where t.id = s.tariff_id and s.suspended_at is not null
          and (s.status <> 'active' or t.traffic_limit_bytes is null or ${USED_SQL} < ${ALLOWANCE_SQL})
       returning s.id, s.status, ${USED_SQL} as used, ${ALLOWANCE_SQL} as allowance`,
    );
    const events = [
      ...suspended.map((r) => ({
        id: r.id,
        type: 'traffic_suspended',
        data: r,
        notice: 'traffic_exhausted',
      })),
      ...restored.map((r) => ({
        id: r.id,
        type: 'traffic_restored',
        data: r,
        notice: r.status === 'active' ? 'traffic_restored' : null,
      })),
    ];
    for (const e of events) {
      await q(`insert into subscription_events (subscription_id, type, data) values (?, ?, ?::jsonb)`, [
        e.id,
        e.type,
        JSON.stringify({
          used: Number(e.data.used),
          allowance: e.data.allowance && Number(e.data.allowance),
        }),
      ]);
      if (e.notice)
        await q(`insert into quota_notices (subscription_id, kind) values (?, ?)`, [e.id, e.notice]);
    }

    const pending = await q(
      `select n.id, n.kind, n.subscription_id, u.telegram_id, u.language
         from quota_notices n join subscriptions s on s.id = n.subscription_id join users u on u.id = s.user_id
        where n.sent_at is null order by n.id limit 500`,
    );
    return {
      reset: resets.length,
      suspended: suspended.length,
      restored: restored.length,
      pending: pending.map((r) => ({
        id: String(r.id),
        kind: r.kind,
        subscriptionId: String(r.subscription_id),
        telegramId: String(r.telegram_id),
        language: String(r.language ?? 'en'),
      })),
    };
  });
}

/** A notice is handled: its clients were cut or restored and the user was told (or cannot be). */
export async function markNoticeDone(orm: MikroORM, id: string): Promise<void> {
  await orm.em
    .getConnection()
    .execute(`update quota_notices set sent_at = now() where id = ? and sent_at is null`, [id]);
}
