import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';

// A refunded first payment takes the referrer's unused bonus back in the database (trigger
// referral_clawback_on_refund, migration 20261202015100). This module carries that shorter end to the
// referrer's lifetime workflow, which otherwise keeps its old timer: with `movedBack` it takes the earlier end
// and, if the clawback ended the access, revokes the key on the node at once.

/** The activities whose success can mark a payment refunded (and so fire the clawback trigger). */
interface RefundingActivities {
  refundPayment(input: { paymentId: string; reason: string }): Promise<void>;
  executeRefund(input: { refundId: string }): Promise<void>;
  scheduleLifetime(input: { subscriptionId: string; endMovedBack?: boolean }): Promise<void>;
}

export interface ClawbackDeps {
  orm: MikroORM;
  logger: Logger;
}

/** Accesses whose end a clawback of this payment's referral bonus moved back (0 or 1 row). */
async function clawedBackAccesses(orm: MikroORM, paymentId: string): Promise<string[]> {
  const rows = await orm.em.getConnection().execute(
    `select r.subscription_id from referral_rewards r
      where r.payment_id = ? and r.status = 'clawed_back' and r.clawed_back_seconds > 0
        and r.subscription_id is not null`,
    [paymentId],
  );
  return rows.map((r) => String(r.subscription_id));
}

/**
 * Wraps the refunding activities: after each (also on a retry that finds the refund already done, so a worker
 * killed between the refund and the signal still moves the end), the clawed-back access's lifetime is signalled
 * with the database's current end and `movedBack`. Signalling the same end twice changes nothing.
 */
export function withReferralClawback<A extends RefundingActivities>(
  acts: A,
  { orm, logger }: ClawbackDeps,
): A {
  const moveBack = async (paymentId: string | null) => {
    if (!paymentId) return;
    for (const subscriptionId of await clawedBackAccesses(orm, paymentId)) {
      await acts.scheduleLifetime({ subscriptionId, endMovedBack: true });
      logger.info({ paymentId, subscriptionId }, 'referral bonus clawed back: lifetime end moved back');
    }
  };
  return {
    ...acts,
    async refundPayment(input: { paymentId: string; reason: string }) {
      await acts.refundPayment(input);
      await moveBack(input.paymentId);
    },
    async executeRefund(input: { refundId: string }) {
      await acts.executeRefund(input);
      const [r] = await orm.em
        .getConnection()
        .execute(`select payment_id from payment_refunds where id = ?`, [input.refundId]);
      await moveBack(r ? String(r.payment_id) : null);
    },
  };
}
