import { HttpError } from '../errors';
import type { Row } from '../db';

export type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;
export type PromoKind = 'percent' | 'amount' | 'days';

/** Codes are case-insensitive for users: stored and compared upper-case. */
export const normalizeCode = (code: string) => code.trim().toUpperCase();

/**
 * A redemption counts while it can still buy something: it has no payment (free days), its payment is pending
 * or succeeded, or its payment row is still being created (the API's own start window).
 */
export const COUNTED_REDEMPTION = `(r.payment_id is null or p.status in ('pending', 'succeeded')
  or (p.id is null and r.created_at > now() - interval '1 minute'))`;

/**
 * Locks the code's row and checks every limit, in the order a user can act on: unknown, not yet / no longer
 * valid, wrong tariff, first purchase only, used by this user, used up. The row lock serializes redemptions
 * of one code, so racing users never exceed max_uses and one user racing themselves redeems once.
 */
export async function lockUsableCode(
  q: Query,
  args: { code: string; userId: string; tariffId?: number; kinds: PromoKind[] },
): Promise<Row> {
  const [code] = await q(
    `select *, (valid_from is not null and valid_from > now()) as not_started,
            (valid_until is not null and valid_until <= now()) as expired
       from promo_codes where code = ? and is_active for update`,
    [normalizeCode(args.code)],
  );
  if (!code) throw new HttpError(404, 'promo_not_found', 'no such promo code');
  if (code.not_started) throw new HttpError(410, 'promo_not_started', 'this promo code is not valid yet');
  if (code.expired) throw new HttpError(410, 'promo_expired', 'this promo code has expired');
  if (!args.kinds.includes(code.kind)) {
    throw new HttpError(
      422,
      code.kind === 'days' ? 'promo_not_a_discount' : 'promo_is_a_discount',
      code.kind === 'days'
        ? 'this code adds free days: redeem it, it does not change a price'
        : 'this code is a discount: give it when paying for a tariff',
      'promo_code',
    );
  }
  if (
    args.tariffId !== undefined &&
    code.tariff_ids?.length &&
    !code.tariff_ids.map(Number).includes(args.tariffId)
  ) {
    throw new HttpError(409, 'promo_wrong_tariff', 'this promo code is not valid for this tariff');
  }
  if (code.first_purchase_only) {
    const [paid] = await q(
      `select 1 from payments where user_id = ? and status in ('succeeded', 'refunded') and provider <> 'free' limit 1`,
      [args.userId],
    );
    if (paid)
      throw new HttpError(409, 'promo_first_purchase_only', 'this promo code is for a first purchase only');
  }
  const [used] = await q(
    `select count(*)::int as total, count(*) filter (where r.user_id = ?)::int as mine
       from promo_redemptions r left join payments p on p.id = r.payment_id
      where r.code = ? and ${COUNTED_REDEMPTION}`,
    [args.userId, code.code],
  );
  if (used.mine >= code.per_user_limit)
    throw new HttpError(409, 'promo_used', 'you have used this promo code already');
  if (code.max_uses !== null && used.total >= code.max_uses) {
    throw new HttpError(409, 'promo_exhausted', 'this promo code has been used up');
  }
  return code;
}
