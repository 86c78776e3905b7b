import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { newSubscriptionToken } from '../infra/xray/subscription';
import { Failure } from '../workflows/failures';
import type { FreeAccessResult } from '../workflows/trial-messages';
import { type Query, transactionQuery } from '../infra/db/query';
import type { FreeGrantRow, SubscriptionRow, TariffRow } from '../infra/db/rows';

/** A free grant with the end of the access it was applied to (if any). */
type GrantWithEnd = FreeGrantRow & { sub_expires_at: SubscriptionRow['expires_at'] | null };

export interface FreeAccessDeps {
  orm: MikroORM;
  logger: Logger;
}

/** The tariff a free access is recorded under; created on first use as an inactive (never sold) tariff. */
export async function ensureFreeTariff(q: Query, slug: string): Promise<TariffRow> {
  await q(
    `insert into tariffs (slug, name, description, price, duration_seconds, is_active, display_order)
     values (?, 'Trial', 'free access (trials and free-days codes); not on sale', 1.00, 259200, false, 1000)
     on conflict (slug) do nothing`,
    [slug],
  );
  const [tariff] = await q<TariffRow>(`select * from tariffs where slug = ?`, [slug]);
  return tariff;
}

/**
 * Free access (trials, free-days codes, and whoever else gives days away): each free_grants row is applied
 * once, under the user's row lock, the same lock paid grants take, so a free grant and a purchase never
 * both create an access.
 */
export function createFreeAccessActivities({ orm, logger }: FreeAccessDeps) {
  const inTx = <T>(fn: (q: Query) => Promise<T>) =>
    orm.em.fork().transactional(async (em) => fn(transactionQuery(em)));

  /** Locks the user and reads the grant; the answer of a grant applied before, if it was. */
  async function lockGrant(
    q: Query,
    grantId: string,
  ): Promise<{ grant: GrantWithEnd; done: FreeAccessResult | null }> {
    const [grant] = await q<GrantWithEnd>(
      `select g.*, s.expires_at as sub_expires_at from free_grants g left join subscriptions s on s.id = g.subscription_id
        where g.id = ?`,
      [grantId],
    );
    if (!grant)
      throw ApplicationFailure.nonRetryable(`free grant ${grantId} not found`, Failure.GrantNotFound);
    await q(`select id from users where id = ? for update`, [grant.user_id]);
    const [again] = await q(
      `select g.outcome, g.subscription_id, s.expires_at from free_grants g left join subscriptions s on s.id = g.subscription_id where g.id = ?`,
      [grantId],
    );
    if (!again.outcome) return { grant, done: null };
    return {
      grant,
      done: {
        outcome: again.outcome,
        subscriptionId: again.subscription_id ?? undefined,
        expiresAt: again.expires_at ? new Date(again.expires_at).toISOString() : undefined,
      },
    };
  }

  async function extendRunning(
    q: Query,
    grant: GrantWithEnd,
    extendExisting: boolean,
  ): Promise<FreeAccessResult | null> {
    const [active] = await q(
      `select id from subscriptions where user_id = ? and status = 'active' for update`,
      [grant.user_id],
    );
    if (!active) return null;
    if (!extendExisting) {
      // A trial for someone who has an access by now (a purchase won the race): nothing to give.
      await q(`update free_grants set outcome = 'superseded', applied_at = now() where id = ?`, [grant.id]);
      return { outcome: 'superseded', subscriptionId: active.id };
    }
    const [row] = await q(
      `update subscriptions set expires_at = greatest(expires_at, now()) + make_interval(secs => ?), updated_at = now()
        where id = ? returning expires_at`,
      [grant.duration_seconds, active.id],
    );
    await q(`insert into subscription_events (subscription_id, type, data) values (?, 'free_days', ?)`, [
      active.id,
      JSON.stringify({
        grant_id: grant.id,
        reason: grant.reason,
        seconds: grant.duration_seconds,
        expires_at: row.expires_at,
      }),
    ]);
    await q(
      `update free_grants set outcome = 'extended', subscription_id = ?, applied_at = now() where id = ?`,
      [active.id, grant.id],
    );
    return {
      outcome: 'extended',
      subscriptionId: active.id,
      expiresAt: new Date(row.expires_at).toISOString(),
    };
  }

  return {
    /** Extends the running access by the grant's days, once; null when the user has none (provision one). */
    async applyFreeExtension({
      grantId,
      extendExisting,
    }: {
      grantId: string;
      extendExisting: boolean;
    }): Promise<FreeAccessResult | null> {
      return inTx(async (q) => {
        const { grant, done } = await lockGrant(q, grantId);
        return done ?? (await extendRunning(q, grant, extendExisting));
      });
    },

    /** The location a new free access is placed in (its tariff's). */
    async freeAccessLocation({ tariffSlug }: { tariffSlug: string }): Promise<string | null> {
      return inTx(async (q) => (await ensureFreeTariff(q, tariffSlug)).location ?? null);
    },

    /**
     * A new access for the grant, in one transaction: subscription, event, grant outcome. If an access appeared
     * meanwhile, the grant extends it (or, for a trial, is superseded) and the caller drops its fresh client.
     */
    async activateFreeAccess(args: {
      grantId: string;
      tariffSlug: string;
      subscriptionId: string;
      clientUuid: string;
      nodeId: string;
      extendExisting: boolean;
    }): Promise<FreeAccessResult> {
      return inTx(async (q) => {
        const { grant, done } = await lockGrant(q, args.grantId);
        if (done) return done;
        const other = await extendRunning(q, grant, args.extendExisting);
        if (other) return other;
        const tariff = await ensureFreeTariff(q, args.tariffSlug);
        // A trial's end was promised when it was asked for (trials.ends_at); other grants run from now.
        const [trial] = await q(`select ends_at from trials where grant_id = ?`, [args.grantId]);
        const [row] = await q(
          `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
           values (?, ?, ?, ?, 'active', ?, ?, ?, now(), coalesce(?::timestamptz, now() + make_interval(secs => ?)))
           returning expires_at`,
          [
            args.subscriptionId,
            grant.user_id,
            tariff.id,
            args.nodeId,
            args.clientUuid,
            args.subscriptionId,
            newSubscriptionToken(),
            trial?.ends_at ?? null,
            grant.duration_seconds,
          ],
        );
        await q(
          `insert into subscription_events (subscription_id, type, data) values (?, 'free_activated', ?)`,
          [
            args.subscriptionId,
            JSON.stringify({
              grant_id: grant.id,
              reason: grant.reason,
              node_id: args.nodeId,
              expires_at: row.expires_at,
            }),
          ],
        );
        await q(`update vpn_nodes set client_count = client_count + 1 where id = ?`, [args.nodeId]);
        await q(
          `update free_grants set outcome = 'activated', subscription_id = ?, applied_at = now() where id = ?`,
          [args.subscriptionId, grant.id],
        );
        logger.info({ grantId: grant.id, subscriptionId: args.subscriptionId }, 'free access activated');
        return {
          outcome: 'activated',
          subscriptionId: args.subscriptionId,
          expiresAt: new Date(row.expires_at).toISOString(),
        };
      });
    },

    /**
     * Provisioning failed for good: the grant gave nothing. A trial that never ran is forgotten, so the user
     * may ask again (one trial per user counts trials that gave access).
     */
    async failFreeGrant({ grantId, why }: { grantId: string; why: string }): Promise<void> {
      await inTx(async (q) => {
        const [grant] = await q(`select outcome from free_grants where id = ? for update`, [grantId]);
        if (!grant || grant.outcome) return;
        await q(`delete from trials where grant_id = ?`, [grantId]);
        await q(`update free_grants set outcome = 'failed', applied_at = now() where id = ?`, [grantId]);
        logger.error({ grantId, why }, 'free grant failed: no access given');
      });
    },
  };
}
