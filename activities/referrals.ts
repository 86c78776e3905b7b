import { Context } from '@temporalio/activity';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import {
  type DaysGrant,
  type GrantNeedsAccess,
  type GrantResult,
  type ReferralRewardInput,
  referralWorkflowId,
  REFERRAL_REWARD_WORKFLOW_TYPE,
} from '../workflows/gift-messages';
import { newSubscriptionToken } from '../infra/xray/subscription';
import { type Query, transactionQuery } from '../infra/db/query';
import type { ReferralRewardRow } from '../infra/db/rows';

export interface ReferralDeps {
  orm: MikroORM;
  temporal: Client;
  logger: Logger;
  /** REFERRAL_BONUS_DAYS: the referrer's reward; 0 turns rewards off. */
  bonusDays: number;
  /** REFERRAL_WELCOME_DAYS: the referee's extra days with their first payment. */
  welcomeDays: number;
  nodeWaitLimitMs: number;
}

const DAY_SECONDS = 86_400;

/** Who receives a grant, for how long, and whether it was already made (then `doneSubscriptionId`). */
interface GrantTarget {
  userId: string;
  telegramId: string;
  language: string;
  seconds: number;
  tariffId: number;
  location: string | null;
  doneSubscriptionId: string | null;
  /** Gifts: the buyer's payment, which grants at most once (subscription_events unique index). */
  paymentId: string | null;
}

/** What lockTarget selects from a claimed gift or a referral reward (with its tariff). */
interface TargetRow {
  user_id: string | null;
  done: string | null;
  payment_id: string | null;
  tariff_id: number;
  location: string | null;
  seconds: number;
  /** referral_rewards.status; absent for a gift. */
  status?: ReferralRewardRow['status'];
}

async function lockTarget(q: Query, grant: DaysGrant): Promise<GrantTarget | null> {
  let row: TargetRow | undefined;
  if (grant.kind === 'gift') {
    [row] = await q<TargetRow>(
      `select g.claimed_by as user_id, g.subscription_id as done, g.payment_id, t.id as tariff_id, t.location,
              t.duration_seconds as seconds
         from gifts g join tariffs t on t.id = g.tariff_id where g.id = ? and g.status = 'claimed' for update of g`,
      [grant.giftId],
    );
  } else {
    const referral = grant.kind === 'referral';
    [row] = await q<TargetRow>(
      `select ${referral ? 'r.referrer_user_id' : 'r.referee_user_id'} as user_id,
              ${referral ? `case when r.status = 'granted' then r.subscription_id end` : 'r.welcome_subscription_id'} as done,
              null as payment_id, t.id as tariff_id, t.location,
              ${referral ? 'r.bonus_seconds' : 'r.welcome_seconds'} as seconds, r.status
         from referral_rewards r join payments p on p.id = r.payment_id join tariffs t on t.id = p.tariff_id
        where r.id = ? for update of r`,
      [grant.rewardId],
    );
    // A bonus taken back (its payment refunded) is never granted afterwards.
    if (row && referral && row.status === 'clawed_back') return null;
  }
  if (!row) return null;
  const [user] = await q(`select id, telegram_id, language from users where id = ? for update`, [
    row.user_id,
  ]);
  return {
    userId: user.id,
    telegramId: String(user.telegram_id),
    language: user.language,
    seconds: Number(row.seconds),
    tariffId: Number(row.tariff_id),
    location: row.location ?? null,
    doneSubscriptionId: row.done ?? null,
    paymentId: row.payment_id ?? null,
  };
}

async function grantOf(q: Query, subscriptionId: string, t: GrantTarget, kind: GrantResult['kind']) {
  const [s] = await q(`select expires_at from subscriptions where id = ?`, [subscriptionId]);
  return {
    kind,
    subscriptionId,
    expiresAt: new Date(s.expires_at).toISOString(),
    telegramId: t.telegramId,
    language: t.language,
  } satisfies GrantResult;
}

/** Marks the grant made, in the transaction that made it: the row's state is the "once". */
async function markGranted(q: Query, grant: DaysGrant, t: GrantTarget, subscriptionId: string) {
  if (grant.kind === 'gift') {
    await q(`update gifts set subscription_id = ? where id = ?`, [subscriptionId, grant.giftId]);
    await q(`update payments set subscription_id = ? where id = ?`, [subscriptionId, t.paymentId]);
  } else if (grant.kind === 'referral') {
    await q(
      `update referral_rewards set status = 'granted', subscription_id = ?, granted_at = now() where id = ?`,
      [subscriptionId, grant.rewardId],
    );
  } else {
    await q(
      `update referral_rewards set welcome_subscription_id = ?, welcome_granted_at = now() where id = ?`,
      [subscriptionId, grant.rewardId],
    );
  }
}

function eventType(grant: DaysGrant, kind: 'activated' | 'extended'): string {
  if (grant.kind === 'gift' || kind === 'activated') return kind;
  return grant.kind === 'referral' ? 'referral_bonus' : 'referral_welcome';
}

async function extendLocked(q: Query, grant: DaysGrant, t: GrantTarget): Promise<GrantResult | null> {
  const [sub] = await q(`select id from subscriptions where user_id = ? and status = 'active' for update`, [
    t.userId,
  ]);
  if (!sub) return null;
  await q(
    `update subscriptions set expires_at = greatest(expires_at, now()) + make_interval(secs => ?), updated_at = now() where id = ?`,
    [t.seconds, sub.id],
  );
  await q(`insert into subscription_events (subscription_id, payment_id, type, data) values (?, ?, ?, ?)`, [
    sub.id,
    t.paymentId,
    eventType(grant, 'extended'),
    JSON.stringify({ grant, seconds: t.seconds }),
  ]);
  await markGranted(q, grant, t, sub.id);
  return grantOf(q, sub.id, t, 'extended');
}

/**
 * Days not bought by their receiver (gift claims, referral bonus and welcome): extend the running access, or
 * make a new one. Each grant is made once: the gift/reward row records it in the same transaction.
 */
export function createGrantActivities({ orm }: { orm: MikroORM }) {
  const inTx = <T>(fn: (q: Query) => Promise<T>) =>
    orm.em.fork().transactional(async (em) => fn(transactionQuery(em)));

  return {
    /** Extends the receiver's running access; `needs_access` when none runs; null when there is nothing to grant. */
    async extendForGrant({ grant }: { grant: DaysGrant }): Promise<GrantResult | GrantNeedsAccess | null> {
      return inTx(async (q) => {
        const t = await lockTarget(q, grant);
        if (!t || t.seconds <= 0) return null;
        if (t.doneSubscriptionId) return grantOf(q, t.doneSubscriptionId, t, 'extended');
        return (await extendLocked(q, grant, t)) ?? { kind: 'needs_access', location: t.location };
      });
    },

    /** A new access on the node the workflow placed the client on; extends instead if one appeared meanwhile. */
    async activateForGrant(args: {
      grant: DaysGrant;
      subscriptionId: string;
      clientUuid: string;
      nodeId: string;
    }): Promise<GrantResult | null> {
      return inTx(async (q) => {
        const t = await lockTarget(q, args.grant);
        if (!t || t.seconds <= 0) return null;
        if (t.doneSubscriptionId) {
          const kind = t.doneSubscriptionId === args.subscriptionId ? 'activated' : 'extended';
          return grantOf(q, t.doneSubscriptionId, t, kind);
        }
        const extended = await extendLocked(q, args.grant, t);
        if (extended) return extended;
        await q(
          `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
           values (?, ?, ?, ?, 'active', ?, ?, ?, now(), now() + make_interval(secs => ?))`,
          [
            args.subscriptionId,
            t.userId,
            t.tariffId,
            args.nodeId,
            args.clientUuid,
            args.subscriptionId,
            newSubscriptionToken(),
            t.seconds,
          ],
        );
        await q(
          `insert into subscription_events (subscription_id, payment_id, type, data) values (?, ?, ?, ?)`,
          [
            args.subscriptionId,
            t.paymentId,
            'activated',
            JSON.stringify({ grant: args.grant, node_id: args.nodeId, seconds: t.seconds }),
          ],
        );
        await q(`update vpn_nodes set client_count = client_count + 1 where id = ?`, [args.nodeId]);
        await markGranted(q, args.grant, t, args.subscriptionId);
        return grantOf(q, args.subscriptionId, t, 'activated');
      });
    },
  };
}

/** Referral rewards: claimed by the referee's first payment, granted by the `referral-<referee>` workflow. */
export function createReferralActivities({
  orm,
  temporal,
  logger,
  bonusDays,
  welcomeDays,
  nodeWaitLimitMs,
}: ReferralDeps) {
  const sql = () => orm.em.getConnection();
  return {
    /**
     * After a paid purchase: if the payer was referred and this is their first real-money payment, record the
     * reward (one per referee, by unique index) and start its workflow. Renewals and retries change nothing.
     */
    async offerReferralReward({ paymentId }: { paymentId: string }): Promise<string | null> {
      if (bonusDays <= 0 && welcomeDays <= 0) return null;
      await sql().execute(
        `insert into referral_rewards (referee_user_id, referrer_user_id, payment_id, bonus_seconds, welcome_seconds)
         select u.id, u.referred_by, p.id, ?, ?
           from payments p join users u on u.id = p.user_id
          where p.id = ? and p.status = 'succeeded' and u.referred_by is not null
            and p.provider in ('yookassa', 'stars') and p.purpose in ('subscription', 'gift')
            and not exists (select 1 from payments e where e.user_id = p.user_id and e.id <> p.id
                             and e.provider in ('yookassa', 'stars') and e.purpose in ('subscription', 'gift')
                             and e.paid_at < p.paid_at)
         on conflict do nothing`,
        [bonusDays * DAY_SECONDS, welcomeDays * DAY_SECONDS, paymentId],
      );
      const [reward] = await sql().execute(
        `select r.id, u.telegram_id from referral_rewards r join users u on u.id = r.referee_user_id where r.payment_id = ?`,
        [paymentId],
      );
      if (!reward) return null;
      const refereeTelegramId = String(reward.telegram_id);
      const input: ReferralRewardInput = { rewardId: String(reward.id), refereeTelegramId, nodeWaitLimitMs };
      const workflowId = referralWorkflowId(refereeTelegramId);
      try {
        await temporal.workflow.start(REFERRAL_REWARD_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: Context.current().info.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.TelegramId, value: refereeTelegramId }],
        });
        logger.info({ paymentId, workflowId }, 'referral reward started');
      } catch (err) {
        // Started before (a retried activity, a redelivered purchase): one reward per referee, as wanted.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return workflowId;
    },

    /** Whether a reward still has something to grant (a bonus of 0 days is recorded for the welcome only). */
    async referralRewardPlan({
      rewardId,
    }: {
      rewardId: string;
    }): Promise<{ bonus: boolean; welcome: boolean; refereePaymentId: string }> {
      const [r] = await sql().execute(`select * from referral_rewards where id = ?`, [rewardId]);
      return {
        bonus: Number(r.bonus_seconds) > 0 && r.status !== 'clawed_back',
        welcome: Number(r.welcome_seconds) > 0,
        refereePaymentId: r.payment_id,
      };
    },
  };
}
