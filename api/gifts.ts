import { WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { giftCodeHash } from '../activities/gifts';
import { failureType } from '../workflows/failures';
import { claimGiftUpdate, giftWorkflowId } from '../workflows/gift-messages';
import { type Row, iso, sql, sqlOne } from './db';
import { withDeadline } from './deadline';
import type { ApiDeps } from './deps';
import { HttpError, notFound } from './errors';
import { requireUser } from './purchases';

/** How long the API waits for the gift workflow to place the access; past it the key still arrives by message. */
const CLAIM_WAIT_MS = 30_000;

export const giftCode = z.string().regex(/^[A-Za-z0-9_-]{16,32}$/, 'must be a gift code (from gift_<code>)');
export const giftClaimed = z.object({ subscription_id: z.string().uuid(), end_date: z.string() });

const refusals: Record<string, HttpError> = {
  gift_claimed: new HttpError(409, 'gift_claimed', 'this gift has already been claimed'),
  own_gift: new HttpError(409, 'own_gift', 'the buyer cannot claim their own gift'),
  gift_expired: new HttpError(410, 'gift_expired', 'the claim window of this gift is over'),
  user_not_found: notFound('user_not_found', 'register first'),
};

const findGift = (deps: ApiDeps, code: string) =>
  sqlOne(
    deps.orm,
    `select g.*, s.expires_at as sub_expires_at from gifts g left join subscriptions s on s.id = g.subscription_id
      where g.code_hash = ?`,
    [giftCodeHash(code)],
  );

/** What the database already says about this claim; undefined when the gift workflow must decide. */
function decided(gift: Row, user: Row): { subscription_id: string; end_date: string } | undefined {
  if (gift.buyer_user_id === user.id) throw refusals.own_gift;
  if (gift.status === 'claimed') {
    if (gift.claimed_by !== user.id) throw refusals.gift_claimed;
    if (gift.subscription_id)
      return { subscription_id: gift.subscription_id, end_date: iso(gift.sub_expires_at)! };
    return undefined; // ours, being granted: wait for it below
  }
  if (gift.status !== 'unclaimed' || new Date(gift.claim_until).getTime() <= Date.now())
    throw refusals.gift_expired;
  return undefined;
}

/**
 * POST /gifts/{code}/claim: the first other user gets the access. The gift workflow serializes claims and the
 * database picks exactly one winner; the winner claiming again gets the same access (200).
 */
export async function claimGift(deps: ApiDeps, code: string, telegramId: string) {
  const user = await requireUser(deps.orm, telegramId);
  const gift = await findGift(deps, code);
  if (!gift) throw notFound('gift_not_found', 'no such gift');
  const known = decided(gift, user);
  if (known) return known;
  const handle = deps.temporal.workflow.getHandle(giftWorkflowId(gift.code_hash));
  try {
    const result = await withDeadline(
      handle.executeUpdate(claimGiftUpdate, { args: [{ telegramId }] }),
      CLAIM_WAIT_MS,
      () =>
        new HttpError(
          503,
          'claim_pending',
          'the gift is yours; the access is being set up and arrives by message',
        ),
    );
    return { subscription_id: result.subscriptionId, end_date: result.expiresAt };
  } catch (err) {
    const type = failureType(err);
    if (type && refusals[type]) throw refusals[type];
    if (err instanceof WorkflowNotFoundError || isClosedWorkflow(err)) {
      // The workflow has finished (claimed or refunded) since we read the row: the row says which.
      const now = await findGift(deps, code);
      const again = now && decided(now, user);
      if (again) return again;
      throw refusals.gift_expired;
    }
    throw err;
  }
}

const isClosedWorkflow = (err: unknown) =>
  /workflow execution already completed|not found/i.test(String((err as Error)?.message ?? ''));

export const adminGiftView = z.object({
  id: z.string().uuid(),
  payment_id: z.string().uuid(),
  buyer_telegram_id: z.number().int(),
  claimed_by_telegram_id: z.number().int().nullable(),
  tariff_id: z.number().int(),
  status: z.enum(['unclaimed', 'claimed', 'refunding', 'refunded']),
  amount: z.string(),
  currency: z.string(),
  claim_until: z.string(),
  claimed_at: z.string().nullable(),
  refunded_at: z.string().nullable(),
  created_at: z.string(),
  workflow_id: z.string(),
});

/** Operators' list of gifts (never the codes: a code is the gift). */
export async function listGifts(deps: ApiDeps, filter: { status?: string; limit: number }) {
  const rows = await sql(
    deps.orm,
    `select g.*, b.telegram_id as buyer_tg, c.telegram_id as claimer_tg, p.amount, p.currency
       from gifts g join users b on b.id = g.buyer_user_id left join users c on c.id = g.claimed_by
       join payments p on p.id = g.payment_id
      where (?::text is null or g.status = ?) order by g.created_at desc limit ?`,
    [filter.status ?? null, filter.status ?? null, filter.limit],
  );
  return rows.map((g) => ({
    id: g.id,
    payment_id: g.payment_id,
    buyer_telegram_id: Number(g.buyer_tg),
    claimed_by_telegram_id: g.claimer_tg === null ? null : Number(g.claimer_tg),
    tariff_id: Number(g.tariff_id),
    status: g.status,
    amount: g.amount,
    currency: g.currency,
    claim_until: iso(g.claim_until)!,
    claimed_at: iso(g.claimed_at),
    refunded_at: iso(g.refunded_at),
    created_at: iso(g.created_at)!,
    workflow_id: giftWorkflowId(g.code_hash),
  }));
}
