import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { Failure } from '../workflows/failures';
import { appendEntry, inTransaction, type Query } from './balance';
import { type PaidPeriod, planCancelRefunds, totalOf } from './refund-plan';

// Plan changes (issue 13): the credit an access is worth, and the upgrade's two database steps. The API
// records the change (api/plan-change.ts); the purchase workflow applies it (workflows/purchase/plan-change.ts).

/** One client of an access on a node: its own key, or one of its devices. */
export interface AccessClient {
  email: string;
  uuid: string;
}

export interface UpgradePlan {
  subscriptionId: string;
  /** The node the access is on now. */
  nodeId: string;
  /** The new tariff is for another location: the clients go to a node there, then leave this one. */
  move: boolean;
  clients: AccessClient[];
  /** Set when a retry finds the change applied already. */
  applied: boolean;
}

export interface AppliedUpgrade {
  subscriptionId: string;
  expiresAt: string;
  /** What of the credit the new price did not use, put on the balance. */
  leftover: string;
}

const cents = (v: string | number) => Math.round(Number(v) * 100);
const money = (c: number) => (c / 100).toFixed(2);

/**
 * The unused value of an access: linear by remaining time, newest payment first (the arithmetic of a cancel's
 * prorated refund, activities/refund-plan.ts, with every payment counted). A Stars period counts at its
 * tariff's price in roubles; an applied plan change counts at what it was worth (credit + difference paid);
 * free time (trial, promo days, admin days) is worth nothing. Only the given currency is counted.
 */
export async function creditFor(q: Query, subscriptionId: string, currency: string): Promise<string> {
  const [sub] = await q(
    `select greatest(0, extract(epoch from expires_at - now()))::float as remaining from subscriptions where id = ?`,
    [subscriptionId],
  );
  if (!sub) return '0.00';
  const rows = await q(
    `select p.id, p.provider, p.amount, p.refunded_amount, t.duration_seconds, t.price as tariff_price,
            t.currency as tariff_currency, pc.credit as change_credit
       from subscription_events e join payments p on p.id = e.payment_id join tariffs t on t.id = p.tariff_id
       left join plan_changes pc on pc.id = p.id and pc.status = 'applied'
      where e.subscription_id = ? and e.type in ('activated', 'extended') and p.status = 'succeeded'
      order by e.id desc`,
    [subscriptionId],
  );
  const periods: PaidPeriod[] = rows
    .filter((r) => String(r.tariff_currency).trim() === currency)
    .map((r) => {
      const stars = r.provider === 'stars';
      const worth = stars ? cents(r.tariff_price) : cents(r.amount) + cents(r.change_credit ?? 0);
      return {
        paymentId: r.id,
        provider: 'card', // the credit is money's worth, never "whole charge or nothing" as a Stars refund is
        amount: money(worth),
        refundedAmount: stars ? '0.00' : String(r.refunded_amount),
        currency,
        durationSeconds: Number(r.duration_seconds),
        inWindow: true,
      };
    });
  return totalOf(planCancelRefunds(periods, Number(sub.remaining), 'prorated'));
}

/**
 * A renewal of an access with a scheduled downgrade settles it: paid for the scheduled tariff, the access takes
 * that tariff from now on; paid for another tariff, the user chose again and the scheduled change is dropped.
 * Called inside the renewal's transaction (activities/database.ts extendLocked).
 */
export async function settleScheduledChange(
  q: Query,
  subscriptionId: string,
  paymentId: string,
): Promise<void> {
  const [change] = await q(
    `update plan_changes pc
        set status = case when pc.to_tariff_id = p.tariff_id then 'applied' else 'superseded' end,
            applied_payment_id = p.id, settled_at = now()
       from payments p
      where p.id = ? and pc.subscription_id = ? and pc.status = 'scheduled'
      returning pc.status, pc.to_tariff_id`,
    [paymentId, subscriptionId],
  );
  if (change?.status === 'applied')
    await q(`update subscriptions set tariff_id = ?, updated_at = now() where id = ?`, [
      change.to_tariff_id,
      subscriptionId,
    ]);
}

/** The tariff the next renewal of an access is for: a scheduled downgrade's, else its own (for auto-renew). */
export async function renewalTariffId(q: Query, subscriptionId: string): Promise<number | null> {
  const [row] = await q(
    `select coalesce(
       (select to_tariff_id from plan_changes where subscription_id = s.id and status = 'scheduled'),
       s.tariff_id) as tariff_id
       from subscriptions s where s.id = ?`,
    [subscriptionId],
  );
  return row ? Number(row.tariff_id) : null;
}

const stale = (why: string) => ApplicationFailure.nonRetryable(why, Failure.PlanChangeStale);

export function createPlanChangeActivities({ orm, logger }: { orm: MikroORM; logger: Logger }) {
  return {
    /** What applying this upgrade takes: does the access move, and which clients. Stale → refunded. */
    async beginUpgrade({ paymentId }: { paymentId: string }): Promise<UpgradePlan> {
      return inTransaction(orm, async (q) => {
        const [c] = await q(
          `select pc.status, pc.subscription_id, s.node_id, s.client_uuid, s.client_email, s.status as sub_status,
                  t.location as to_location, n.location as node_location
             from plan_changes pc join subscriptions s on s.id = pc.subscription_id
             join tariffs t on t.id = pc.to_tariff_id left join vpn_nodes n on n.id = s.node_id
            where pc.id = ?`,
          [paymentId],
        );
        if (!c) throw stale(`no plan change for payment ${paymentId}`);
        const applied = c.status === 'applied';
        if (!applied && (c.status !== 'open' || c.sub_status !== 'active'))
          throw stale(`the access is ${c.sub_status} and the change ${c.status}: nothing to upgrade`);
        const devices = await q(
          `select client_email as email, client_uuid as uuid from devices where subscription_id = ? and removed_at is null`,
          [c.subscription_id],
        );
        return {
          subscriptionId: c.subscription_id,
          nodeId: c.node_id,
          move: Boolean(
            c.to_location &&
              String(c.to_location).toLowerCase() !== String(c.node_location ?? '').toLowerCase(),
          ),
          clients: [{ email: c.client_email, uuid: c.client_uuid }, ...(devices as AccessClient[])],
          applied,
        };
      });
    },

    /**
     * The access gets the new tariff now: end = now + the new period, on `nodeId` when it moved. Once per
     * payment (the grant event is unique per payment id). Refused (the purchase refunds) when the access
     * changed since the credit was quoted: renewed, refunded, canceled or over.
     */
    async commitUpgrade({
      paymentId,
      nodeId,
    }: {
      paymentId: string;
      nodeId: string | null;
    }): Promise<AppliedUpgrade> {
      return inTransaction(orm, async (q) => {
        const [c] = await q(`select * from plan_changes where id = ? for update`, [paymentId]);
        if (!c) throw stale(`no plan change for payment ${paymentId}`);
        const [sub] = await q(
          `select s.*, s.expires_at = pc.quoted_expires_at as same_end
             from subscriptions s join plan_changes pc on pc.subscription_id = s.id where pc.id = ? for update of s`,
          [paymentId],
        );
        const [t] = await q(`select * from tariffs where id = ?`, [c.to_tariff_id]);
        const credit = cents(c.credit);
        const leftover = money(Math.max(0, credit - cents(t.price)));
        if (c.status === 'applied')
          return {
            subscriptionId: sub.id,
            expiresAt: new Date(c.new_expires_at).toISOString(),
            leftover,
          };
        const moved =
          sub.status !== 'active' || !sub.same_end || Number(sub.tariff_id) !== Number(c.from_tariff_id);
        if (c.status !== 'open' || moved)
          throw stale('the access changed after the credit was quoted (renewed, refunded or over)');
        const [row] = await q(
          `update subscriptions set tariff_id = ?, node_id = coalesce(?, node_id),
                  expires_at = now() + make_interval(secs => ?), updated_at = now()
            where id = ? returning expires_at`,
          [c.to_tariff_id, nodeId, Number(t.duration_seconds), sub.id],
        );
        if (nodeId && nodeId !== sub.node_id) {
          await q(`update vpn_nodes set client_count = greatest(client_count - 1, 0) where id = ?`, [
            sub.node_id,
          ]);
          await q(`update vpn_nodes set client_count = client_count + 1 where id = ?`, [nodeId]);
        }
        // An `extended` grant: unique per payment, and what a later cancel or admin refund reads as paid time.
        await q(
          `insert into subscription_events (subscription_id, payment_id, type, data) values (?, ?, 'extended', ?)`,
          [
            sub.id,
            paymentId,
            JSON.stringify({
              plan_change: c.id,
              from_tariff_id: c.from_tariff_id,
              to_tariff_id: c.to_tariff_id,
              credit: c.credit,
              node_id: nodeId ?? sub.node_id,
              expires_at: row.expires_at,
            }),
          ],
        );
        await q(`update payments set subscription_id = ? where id = ?`, [sub.id, paymentId]);
        if (cents(leftover) > 0)
          await appendEntry(q, {
            userId: sub.user_id,
            amount: leftover,
            currency: String(c.currency).trim(),
            reason: 'refund',
            reference: `plan-credit-${paymentId}`,
            paymentId,
          });
        await q(
          `update plan_changes set status = 'applied', new_expires_at = ?, settled_at = now() where id = ?`,
          [row.expires_at, c.id],
        );
        logger.info({ paymentId, subscriptionId: sub.id, to: c.to_tariff_id, leftover }, 'plan upgraded');
        return { subscriptionId: sub.id, expiresAt: new Date(row.expires_at).toISOString(), leftover };
      });
    },
  };
}
