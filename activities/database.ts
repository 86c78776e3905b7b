import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { PaymentNotice } from '../workflows/purchase-messages';
import { newSubscriptionToken } from '../infra/xray/subscription';
import { sameAmount } from '../infra/yookassa/amount';
import { Failure } from '../workflows/failures';
import type { OpsAlerter } from '../infra/ops-alerts';
import { type NodeChoice, releaseReservation, selectAndReserve } from '../infra/fleet/capacity';
import { rememberSavedMethod } from './auto-renew';
import { bookStarsSubscription } from './stars-subscriptions';
import { type Query, transactionQuery } from '../infra/db/query';
import { settleScheduledChange } from './plan-change';

export interface DatabaseDeps {
  orm: MikroORM;
  logger: Logger;
  onAlert?: (kind: string) => void;
  onKeyDelivered?: (secondsSincePayment: number) => void;
  /** Alerts to the admin chat (infra/ops-alerts.ts); without it an alert is a log line and a metric. */
  alerter?: OpsAlerter;
  /** STARS_RENEWAL_HOLD (ms): how long past its end an access waits for Telegram's recurring Stars charge. */
  starsRenewalHoldMs?: number;
}

/** Telegram charges a Stars subscription at the period's end; its successful_payment may come a little later. */
export const DEFAULT_STARS_RENEWAL_HOLD_MS = 60 * 60_000;

export type Grant = { kind: 'activated' | 'extended'; subscriptionId: string; expiresAt: string };
export type RevokeDecision =
  | { kind: 'revoke'; nodeId: string }
  | { kind: 'not_due'; expiresAt: string }
  /** Ended, but Telegram charges its Stars subscription about now: the key stays until `until` for the renewal. */
  | { kind: 'hold'; until: string }
  | { kind: 'gone' };

/** Our PostgreSQL: every write is one transaction, and every grant is keyed by the payment that bought it. */
/**
 * The node confirmed the client is gone: a `revoking` access ends (`expired`), its node counts one client
 * less, and the event says why. A second call finds nothing to do. Shared by the lifetime and admin revokes.
 */
export async function endRevokedAccess(
  q: Query,
  subscriptionId: string,
  event: { type: 'expired' } | { type: 'revoked'; data: object },
): Promise<void> {
  const rows = await q(
    `update subscriptions set status = 'expired', updated_at = now() where id = ? and status = 'revoking' returning node_id`,
    [subscriptionId],
  );
  if (rows.length === 0) return;
  await q(`update vpn_nodes set client_count = greatest(client_count - 1, 0) where id = ?`, [
    rows[0].node_id,
  ]);
  await q(`insert into subscription_events (subscription_id, type, data) values (?, ?, ?)`, [
    subscriptionId,
    event.type,
    JSON.stringify('data' in event ? event.data : {}),
  ]);
}

export function createDatabaseActivities({
  orm,
  logger,
  onAlert,
  onKeyDelivered,
  alerter,
  starsRenewalHoldMs = DEFAULT_STARS_RENEWAL_HOLD_MS,
}: DatabaseDeps) {
  const holdSeconds = starsRenewalHoldMs / 1000;
  const sql = () => orm.em.getConnection();
  const inTx = <T>(fn: (q: Query) => Promise<T>) =>
    orm.em.fork().transactional(async (em) => fn(transactionQuery(em)));

  /** The grant this payment already made, if any: the retry of a finished step returns the same answer. */
  async function existingGrant(q: Query, paymentId: string): Promise<Grant | null> {
    const [row] = await q(
      `select e.type, e.subscription_id, s.expires_at from subscription_events e join subscriptions s on s.id = e.subscription_id
        where e.payment_id = ? and e.type in ('activated', 'extended')`,
      [paymentId],
    );
    return row
      ? {
          kind: row.type,
          subscriptionId: row.subscription_id,
          expiresAt: new Date(row.expires_at).toISOString(),
        }
      : null;
  }

  async function extendLocked(q: Query, paymentId: string): Promise<Grant | null> {
    const [sub] = await q(
      `select s.id, n.location as active_location, t.location as tariff_location
         from subscriptions s join payments p on p.user_id = s.user_id join tariffs t on t.id = p.tariff_id
         left join vpn_nodes n on n.id = s.node_id
        where p.id = ? and s.status = 'active' for update of s`,
      [paymentId],
    );
    if (!sub) return null;
    // One access per user: a tariff for another location must never extend this one (the caller refunds).
    if (
      sub.tariff_location &&
      sub.active_location &&
      String(sub.tariff_location).toLowerCase() !== String(sub.active_location).toLowerCase()
    ) {
      logger.error({ paymentId, subscriptionId: sub.id, ...sub }, 'paid tariff is for another location');
      throw ApplicationFailure.nonRetryable(
        `the active access is in ${sub.active_location}, the tariff is for ${sub.tariff_location}`,
        Failure.LocationMismatch,
      );
    }
    // From the current end if still running, so a renewal never loses paid days. A Stars subscription's charge
    // that came during the hold past the end pays the period from that end: the held minutes are not free.
    const [row] = await q(
      `update subscriptions s set expires_at =
              (case when p.metadata->>'stars_renewal_of' is not null and s.expires_at > now() - make_interval(secs => ?)
                    then s.expires_at else greatest(s.expires_at, now()) end)
              + make_interval(secs => t.duration_seconds),
              updated_at = now()
         from payments p join tariffs t on t.id = p.tariff_id
        where s.id = ? and p.id = ? returning s.expires_at`,
      [holdSeconds, sub.id, paymentId],
    );
    await q(
      `insert into subscription_events (subscription_id, payment_id, type, data) values (?, ?, 'extended', ?)`,
      [sub.id, paymentId, JSON.stringify({ expires_at: row.expires_at })],
    );
    await q(`update payments set subscription_id = ? where id = ?`, [sub.id, paymentId]);
    await settleScheduledChange(q, sub.id, paymentId); // a scheduled downgrade takes effect at this renewal
    return { kind: 'extended', subscriptionId: sub.id, expiresAt: new Date(row.expires_at).toISOString() };
  }

  /** Serializes grants per user so two purchases paid at once cannot both create an access. */
  const lockUser = (q: Query, paymentId: string) =>
    q(`select u.id from users u join payments p on p.user_id = u.id where p.id = ? for update of u`, [
      paymentId,
    ]);

  return {
    async recordPaymentSucceeded({
      paymentId,
      notice,
    }: {
      paymentId: string;
      notice: PaymentNotice;
    }): Promise<void> {
      const [payment] = await sql().execute(`select amount, currency, status from payments where id = ?`, [
        paymentId,
      ]);
      if (!payment)
        throw ApplicationFailure.nonRetryable(`payment ${paymentId} not found`, Failure.PaymentNotFound);
      if (!sameAmount(payment.amount, notice.amount) || payment.currency !== notice.currency) {
        logger.error(
          { paymentId, expected: payment, got: notice },
          'paid amount differs from the amount asked',
        );
        throw ApplicationFailure.nonRetryable(
          `paid ${notice.amount} ${notice.currency}, expected ${payment.amount} ${payment.currency}`,
          Failure.AmountMismatch,
        );
      }
      await sql().execute(
        `update payments set status = 'succeeded', paid_at = coalesce(paid_at, now()),
                telegram_payment_charge_id = coalesce(?, telegram_payment_charge_id)
          where id = ? and status in ('pending', 'expired', 'canceled')`,
        [notice.telegramChargeId ?? null, paymentId],
      );
      await rememberSavedMethod(orm, paymentId, notice); // auto-renew consent: the card is kept by reference
      await bookStarsSubscription(orm, paymentId, notice); // auto-renew by Stars: Telegram's subscription
    },

    async recordPaymentCanceled({
      paymentId,
      reason,
    }: {
      paymentId: string;
      reason: string | null;
    }): Promise<void> {
      await sql().execute(
        `update payments set status = 'canceled', cancellation_reason = ? where id = ? and status = 'pending'`,
        [reason, paymentId],
      );
    },

    async recordPaymentExpired({ paymentId }: { paymentId: string }): Promise<void> {
      await sql().execute(
        `update payments set status = 'expired', cancellation_reason = 'payment_timeout' where id = ? and status = 'pending'`,
        [paymentId],
      );
    },

    /** Renewal: extend the user's running access by this payment's tariff, once. Null when none is running. */
    async extendActiveSubscription({ paymentId }: { paymentId: string }): Promise<Grant | null> {
      return inTx(async (q) => {
        await lockUser(q, paymentId);
        return (await existingGrant(q, paymentId)) ?? extendLocked(q, paymentId);
      });
    },

    /** New access in one transaction: subscription, event, payment link. Falls back to extending if one appeared. */
    async activateSubscription(args: {
      paymentId: string;
      subscriptionId: string;
      clientUuid: string;
      nodeId: string;
    }): Promise<Grant> {
      return inTx(async (q) => {
        await lockUser(q, args.paymentId);
        await releaseReservation(q, args.paymentId); // the access (or the extended one) counts from here
        const done = (await existingGrant(q, args.paymentId)) ?? (await extendLocked(q, args.paymentId));
        if (done) return done;
        const [row] = await q(
          `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
           select ?, p.user_id, p.tariff_id, ?, 'active', ?, ?, ?, now(), now() + make_interval(secs => t.duration_seconds)
             from payments p join tariffs t on t.id = p.tariff_id where p.id = ?
           returning expires_at`,
          [
            args.subscriptionId,
            args.nodeId,
            args.clientUuid,
            args.subscriptionId,
            newSubscriptionToken(),
            args.paymentId,
          ],
        );
        await q(
          `insert into subscription_events (subscription_id, payment_id, type, data) values (?, ?, 'activated', ?)`,
          [
            args.subscriptionId,
            args.paymentId,
            JSON.stringify({ node_id: args.nodeId, expires_at: row.expires_at }),
          ],
        );
        await q(`update payments set subscription_id = ? where id = ?`, [
          args.subscriptionId,
          args.paymentId,
        ]);
        await q(`update vpn_nodes set client_count = client_count + 1 where id = ?`, [args.nodeId]);
        return {
          kind: 'activated',
          subscriptionId: args.subscriptionId,
          expiresAt: new Date(row.expires_at).toISOString(),
        };
      });
    },

    /**
     * Healthy, with room, in the wanted location, not draining, least loaded first. With `holder` (the
     * payment id) the slot is reserved until the grant (infra/fleet/capacity.ts).
     */
    async selectNode(choice: NodeChoice): Promise<string | null> {
      return selectAndReserve(orm, choice);
    },

    /**
     * The end has come: revoke, unless the database knows a later end (`not_due`) or, when the lifetime asks
     * for it (`holdForStarsRenewal`), Telegram charges the user's Stars subscription about now (`hold`: the
     * renewal, a little late, then extends this access and its key instead of buying a new one).
     */
    async beginRevoke({
      subscriptionId,
      holdForStarsRenewal = false,
    }: {
      subscriptionId: string;
      holdForStarsRenewal?: boolean;
    }): Promise<RevokeDecision> {
      return inTx(async (q) => {
        const [sub] = await q(
          `select status, user_id, node_id, expires_at, expires_at > now() as in_future from subscriptions where id = ? for update`,
          [subscriptionId],
        );
        if (!sub || (sub.status !== 'active' && sub.status !== 'revoking')) return { kind: 'gone' };
        if (sub.in_future) return { kind: 'not_due', expiresAt: new Date(sub.expires_at).toISOString() };
        if (holdForStarsRenewal && sub.status === 'active') {
          // The user's live Stars subscription whose next charge is due at this end (within the hold either
          // side; one Telegram stopped charging long ago is not): hold until the later of the two plus the hold.
          const [due] = await q(
            `with held as (select ?::timestamptz as ended, make_interval(secs => ?) as hold)
             select greatest(held.ended, coalesce(ss.expires_at, held.ended)) + held.hold as until
               from stars_subscriptions ss, held
              where ss.user_id = ? and ss.status = 'active'
                and coalesce(ss.expires_at, held.ended) <= now() + held.hold
                and coalesce(ss.expires_at, held.ended) >= held.ended - held.hold
                and greatest(held.ended, coalesce(ss.expires_at, held.ended)) + held.hold > now()
              order by ss.created_at desc limit 1`,
            [sub.expires_at, holdSeconds, sub.user_id],
          );
          if (due) return { kind: 'hold', until: new Date(due.until).toISOString() };
        }
        await q(`update subscriptions set status = 'revoking', updated_at = now() where id = ?`, [
          subscriptionId,
        ]);
        return { kind: 'revoke', nodeId: sub.node_id };
      });
    },

    async finishRevoke({ subscriptionId }: { subscriptionId: string }): Promise<void> {
      await inTx((q) => endRevokedAccess(q, subscriptionId, { type: 'expired' }));
    },

    /** Ops alert: a log line at error level plus a metric operators can page on, and the admin chat. */
    async raiseOpsAlert({ kind, detail }: { kind: string; detail: string }): Promise<void> {
      if (alerter) {
        await alerter.raise({ kind, detail }); // logs and counts too
        return;
      }
      logger.error({ alert: kind, detail }, `ops alert: ${kind}`);
      onAlert?.(kind);
    },

    /** Feeds the "payment succeeded → key delivered" latency histogram. */
    async observeKeyDelivered({ paymentId }: { paymentId: string }): Promise<void> {
      const [row] = await sql().execute(
        `select extract(epoch from now() - paid_at)::float as s from payments where id = ?`,
        [paymentId],
      );
      if (row?.s != null) onKeyDelivered?.(row.s);
    },
  };
}
