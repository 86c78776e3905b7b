import { createHash, randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { t } from '../infra/i18n';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import {
  type GiftClaimRefusal,
  type GiftInput,
  type ReferralGiftKind,
  giftWorkflowId,
  GIFT_WORKFLOW_TYPE,
} from '../workflows/gift-messages';
import { type Query, transactionQuery } from '../infra/db/query';

export interface GiftDeps {
  orm: MikroORM;
  temporal: Client;
  logger: Logger;
}

/** 128 random bits, URL- and /start-safe (base64url, 22 characters). */
export const newGiftCode = () => randomBytes(16).toString('base64url');
export const giftCodeHash = (code: string) => createHash('sha256').update(code).digest('hex');
/** What a user forwards: opening it sends `/start gift_<code>` to the bot. */
export const startLink = (botUsername: string | null | undefined, payload: string) =>
  botUsername ? `https://t.me/${botUsername}?start=${payload}` : null;

/** Gifts: created by a paid gift purchase, claimed once by another user, or refunded after the window. */
export function createGiftActivities({ orm, temporal, logger }: GiftDeps) {
  const sql = () => orm.em.getConnection();
  const inTx = <T>(fn: (q: Query) => Promise<T>) =>
    orm.em.fork().transactional(async (em) => fn(transactionQuery(em)));

  return {
    /**
     * The purchase's gift step: one gift per paid gift payment (unique payment id), and its durable
     * `gift-<hash>` workflow, which sends the link and ends in a claim or a refund.
     */
    async createGift({
      paymentId,
      claimWindowMs,
      nodeWaitLimitMs,
    }: {
      paymentId: string;
      claimWindowMs: number;
      nodeWaitLimitMs: number;
    }): Promise<{ giftId: string; workflowId: string }> {
      const code = newGiftCode();
      await sql().execute(
        `insert into gifts (code, code_hash, payment_id, buyer_user_id, tariff_id, claim_until)
         select ?, ?, p.id, p.user_id, p.tariff_id, now() + make_interval(secs => ?)
           from payments p where p.id = ? and p.status = 'succeeded' and p.purpose = 'gift'
         on conflict (payment_id) do nothing`,
        [code, giftCodeHash(code), claimWindowMs / 1000, paymentId],
      );
      const [gift] = await sql().execute(
        `select g.id, g.code_hash, g.claim_until, u.telegram_id, u.language
           from gifts g join users u on u.id = g.buyer_user_id where g.payment_id = ?`,
        [paymentId],
      );
      if (!gift) throw new Error(`payment ${paymentId} is not a paid gift purchase`);
      const input: GiftInput = {
        giftId: gift.id,
        paymentId,
        buyerTelegramId: String(gift.telegram_id),
        language: gift.language,
        claimUntil: new Date(gift.claim_until).toISOString(),
        nodeWaitLimitMs,
      };
      const workflowId = giftWorkflowId(gift.code_hash);
      try {
        await temporal.workflow.start(GIFT_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: Context.current().info.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.TelegramId, value: input.buyerTelegramId },
            { key: SEARCH_ATTRIBUTES.PaymentId, value: paymentId },
            { key: SEARCH_ATTRIBUTES.GiftState, value: 'UNCLAIMED' },
          ],
        });
        logger.info({ paymentId, workflowId }, 'gift created');
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return { giftId: gift.id, workflowId };
    },

    /** The database picks the one winner: the first other user; the same winner asking again wins again. */
    async claimGift({
      giftId,
      telegramId,
    }: {
      giftId: string;
      telegramId: string;
    }): Promise<{ outcome: 'won' } | { outcome: GiftClaimRefusal }> {
      return inTx(async (q) => {
        const [user] = await q(`select id from users where telegram_id = ?`, [telegramId]);
        if (!user) return { outcome: 'user_not_found' };
        const [g] = await q(
          `select status, buyer_user_id, claimed_by, claim_until <= now() as over from gifts where id = ? for update`,
          [giftId],
        );
        if (g.status === 'claimed') return { outcome: g.claimed_by === user.id ? 'won' : 'gift_claimed' };
        if (g.buyer_user_id === user.id) return { outcome: 'own_gift' };
        if (g.status !== 'unclaimed' || g.over) return { outcome: 'gift_expired' };
        await q(`update gifts set status = 'claimed', claimed_by = ?, claimed_at = now() where id = ?`, [
          user.id,
          giftId,
        ]);
        return { outcome: 'won' };
      });
    },

    /** At the end of the window: an unclaimed gift turns to refunding (a claim committed first wins instead). */
    async expireGift({ giftId }: { giftId: string }): Promise<'refunding' | 'claimed'> {
      const [g] = await sql().execute(
        `update gifts set status = case when status = 'unclaimed' then 'refunding' else status end
          where id = ? returning status`,
        [giftId],
      );
      return g.status === 'claimed' ? 'claimed' : 'refunding';
    },

    async markGiftRefunded({ giftId }: { giftId: string }): Promise<void> {
      await sql().execute(
        `update gifts set status = 'refunded', refunded_at = coalesce(refunded_at, now()) where id = ? and status in ('refunding', 'refunded')`,
        [giftId],
      );
    },
  };
}

/** The buyer's gift message: the link to forward and how long it stays claimable. */
export async function giftLinkFor(
  orm: MikroORM,
  paymentId: string,
  botUsername: string | null | undefined,
): Promise<{ code: string; link: string | null; claimUntil: Date; tariffName: string }> {
  const [g] = await orm.em
    .getConnection()
    .execute(
      `select g.code, g.claim_until, t.name from gifts g join tariffs t on t.id = g.tariff_id where g.payment_id = ?`,
      [paymentId],
    );
  return {
    code: g.code,
    link: startLink(botUsername, `gift_${g.code}`),
    claimUntil: new Date(g.claim_until),
    tariffName: g.name,
  };
}

export type { ReferralGiftKind };

/** Texts of the referral and gift notifications (activities/telegram.ts sends them). */
export async function composeReferralGift(
  orm: MikroORM,
  n: { kind: ReferralGiftKind; language: string; paymentId?: string; expiresAt?: string },
  botUsername: string | undefined,
): Promise<string> {
  const m = t(n.language).referralGift;
  const sql = orm.em.getConnection();
  switch (n.kind) {
    case 'gift_link':
      return m.giftLink(await giftLinkFor(orm, n.paymentId!, botUsername));
    case 'gift_claimed':
      return m.giftClaimedForBuyer;
    case 'referral_bonus':
    case 'referral_welcome': {
      const [r] = await sql.execute(
        `select bonus_seconds, welcome_seconds from referral_rewards where payment_id = ?`,
        [n.paymentId],
      );
      const seconds = n.kind === 'referral_bonus' ? r?.bonus_seconds : r?.welcome_seconds;
      const p = { days: Number(seconds ?? 0) / 86_400, expiresAt: n.expiresAt ?? new Date() };
      return n.kind === 'referral_bonus' ? m.bonusGranted(p) : m.welcomeGranted(p);
    }
  }
}
