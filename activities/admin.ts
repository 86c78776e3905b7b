import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import { newSubscriptionToken } from '../infra/xray/subscription';
import { Failure } from '../workflows/failures';
import { subscriptionWorkflowId } from '../workflows/purchase-messages';
import { type Query, poolQuery, transactionQuery } from '../infra/db/query';
import type { UserRow } from '../infra/db/rows';
import { endRevokedAccess } from './database';

export interface AdminActivityDeps {
  orm: MikroORM;
  temporal: Client;
}

export interface AdminGrantResult {
  kind: 'activated' | 'extended';
  subscriptionId: string;
  expiresAt: string;
  language: string;
  /** The client this grant put on a node but did not use (another access appeared meanwhile). */
  spareClient?: boolean;
}

export interface AdminAccessTarget {
  userId: string;
  language: string;
  location: string | null;
  durationSeconds: number;
  active: { subscriptionId: string; nodeId: string } | null;
}

const rejected = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

/**
 * What operators do to an access by hand (extend, grant, revoke). Each write is one transaction and is keyed
 * by the action's id (`grant_id` in the event data), so a retried activity never extends twice.
 */
export function createAdminActivities({ orm, temporal }: AdminActivityDeps) {
  const inTx = <T>(fn: (q: Query) => Promise<T>) =>
    orm.em.fork().transactional(async (em) => fn(transactionQuery(em)));

  async function lockUser(q: Query, telegramId: string): Promise<Pick<UserRow, 'id' | 'language'>> {
    const [user] = await q<Pick<UserRow, 'id' | 'language'>>(
      `select id, language from users where telegram_id = ? for update`,
      [telegramId],
    );
    if (!user) throw rejected(`user ${telegramId} not found`, Failure.UserNotFound);
    return user;
  }

  /** The grant this action already made (the retry of a finished step answers the same). */
  async function grantDone(q: Query, grantId: string, language: string): Promise<AdminGrantResult | null> {
    const [row] = await q(
      `select e.type, e.subscription_id, s.expires_at from subscription_events e join subscriptions s on s.id = e.subscription_id
        where e.payment_id is null and e.type in ('activated', 'extended') and e.data->>'grant_id' = ?`,
      [grantId],
    );
    return row
      ? {
          kind: row.type,
          subscriptionId: row.subscription_id,
          expiresAt: new Date(row.expires_at).toISOString(),
          language,
        }
      : null;
  }

  async function extendLocked(
    q: Query,
    a: { userId: string; seconds: number; grantId: string; admin: string; language: string },
  ): Promise<AdminGrantResult | null> {
    const [sub] = await q(
      `update subscriptions set expires_at = greatest(expires_at, now()) + make_interval(secs => ?), updated_at = now()
        where user_id = ? and status = 'active' returning id, expires_at`,
      [a.seconds, a.userId],
    );
    if (!sub) return null;
    await q(`insert into subscription_events (subscription_id, type, data) values (?, 'extended', ?)`, [
      sub.id,
      JSON.stringify({ grant_id: a.grantId, admin: a.admin, seconds: a.seconds, expires_at: sub.expires_at }),
    ]);
    return {
      kind: 'extended',
      subscriptionId: sub.id,
      expiresAt: new Date(sub.expires_at).toISOString(),
      language: a.language,
    };
  }

  return {
    /** The user, the tariff's duration and location, and their running access (if any). */
    async adminAccessTarget({
      telegramId,
      tariffId,
    }: {
      telegramId: string;
      tariffId: number | null;
    }): Promise<AdminAccessTarget> {
      const q = poolQuery(orm.em);
      const [user] = await q(`select id, language from users where telegram_id = ?`, [telegramId]);
      if (!user) throw rejected(`user ${telegramId} not found`, Failure.UserNotFound);
      const [tariff] = tariffId
        ? await q(`select duration_seconds, location from tariffs where id = ?`, [tariffId])
        : [undefined];
      if (tariffId && !tariff) throw rejected(`tariff ${tariffId} not found`, Failure.TariffNotFound);
      const [active] = await q(
        `select id, node_id from subscriptions where user_id = ? and status = 'active'`,
        [user.id],
      );
      return {
        userId: user.id,
        language: user.language,
        location: tariff?.location ?? null,
        durationSeconds: Number(tariff?.duration_seconds ?? 0),
        active: active ? { subscriptionId: active.id, nodeId: active.node_id } : null,
      };
    },

    /** Extends the running access by `seconds`, once per grant id; rejects when none runs. */
    async adminExtend(a: {
      telegramId: string;
      seconds: number;
      grantId: string;
      admin: string;
    }): Promise<AdminGrantResult> {
      return inTx(async (q) => {
        const user = await lockUser(q, a.telegramId);
        const done = await grantDone(q, a.grantId, user.language);
        if (done) return done;
        const extended = await extendLocked(q, { ...a, userId: user.id, language: user.language });
        if (!extended)
          throw rejected(`user ${a.telegramId} has no active access`, Failure.NoActiveSubscription);
        return extended;
      });
    },

    /** A new access on a node the workflow already put the client on; extends instead if one appeared. */
    async adminActivate(a: {
      telegramId: string;
      tariffId: number;
      seconds: number;
      grantId: string;
      admin: string;
      subscriptionId: string;
      clientUuid: string;
      nodeId: string;
    }): Promise<AdminGrantResult> {
      return inTx(async (q) => {
        const user = await lockUser(q, a.telegramId);
        const done = await grantDone(q, a.grantId, user.language);
        if (done) return done;
        const extended = await extendLocked(q, { ...a, userId: user.id, language: user.language });
        if (extended) return { ...extended, spareClient: true };
        const [row] = await q(
          `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
           values (?, ?, ?, ?, 'active', ?, ?, ?, now(), now() + make_interval(secs => ?)) returning expires_at`,
          [
            a.subscriptionId,
            user.id,
            a.tariffId,
            a.nodeId,
            a.clientUuid,
            a.subscriptionId,
            newSubscriptionToken(),
            a.seconds,
          ],
        );
        await q(`insert into subscription_events (subscription_id, type, data) values (?, 'activated', ?)`, [
          a.subscriptionId,
          JSON.stringify({
            grant_id: a.grantId,
            admin: a.admin,
            node_id: a.nodeId,
            expires_at: row.expires_at,
          }),
        ]);
        await q(`update vpn_nodes set client_count = client_count + 1 where id = ?`, [a.nodeId]);
        return {
          kind: 'activated',
          subscriptionId: a.subscriptionId,
          expiresAt: new Date(row.expires_at).toISOString(),
          language: user.language,
        };
      });
    },

    /** Marks the running access as being revoked now, whatever its end date. Null when none runs. */
    async adminBeginRevoke({
      telegramId,
    }: {
      telegramId: string;
    }): Promise<{ subscriptionId: string; nodeId: string; language: string } | null> {
      return inTx(async (q) => {
        const user = await lockUser(q, telegramId);
        const [sub] = await q(
          `update subscriptions set status = 'revoking', updated_at = now()
            where id = (select id from subscriptions where user_id = ? and status in ('active', 'revoking')
                         order by (status = 'active') desc, created_at desc limit 1)
            returning id, node_id`,
          [user.id],
        );
        return sub ? { subscriptionId: sub.id, nodeId: sub.node_id, language: user.language } : null;
      });
    },

    /** After the node confirmed the client is gone: the access is over, with a `revoked` event naming who. */
    async adminFinishRevoke({ subscriptionId, admin }: { subscriptionId: string; admin: string }) {
      await inTx((q) => endRevokedAccess(q, subscriptionId, { type: 'revoked', data: { admin } }));
    },

    /** Ends the access's lifetime workflow (no reminder for an access an operator revoked). */
    async closeLifetime({ subscriptionId, reason }: { subscriptionId: string; reason: string }) {
      try {
        await temporal.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).terminate(reason);
      } catch (err) {
        if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      }
    },
  };
}
