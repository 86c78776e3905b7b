import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { startLink } from '../activities/gifts';
import { sqlOne } from './db';

/** `/start` payloads the bot forwards at first registration (Telegram allows [A-Za-z0-9_-], at most 64). */
export const startPayload = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_-]*$/, 'must be a Telegram /start parameter ([A-Za-z0-9_-], at most 64)');

/** `ref_<code>` → the code; anything else (gift_…, campaign tags) is not a referral. */
export function referralCodeOf(payload: string | null | undefined): string | null {
  const m = /^ref_([A-Za-z0-9]{4,16})$/.exec(payload ?? '');
  return m ? m[1] : null;
}

/** `gift_<code>` → the gift code (base64url, 22 characters for 128 bits). */
export function giftCodeOf(payload: string | null | undefined): string | null {
  const m = /^gift_([A-Za-z0-9_-]{16,32})$/.exec(payload ?? '');
  return m ? m[1] : null;
}

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no 0/o, 1/l: codes are read aloud and retyped
const newReferralCode = () => Array.from(randomBytes(8), (b) => ALPHABET[b % ALPHABET.length]).join('');

export const referralView = z.object({
  link: z
    .string()
    .nullable()
    .describe('https://t.me/<bot>?start=ref_<code>; null when BOT_USERNAME is not set (use `code`)'),
  code: z.string(),
  invited: z.number().int().describe('users who registered through the link'),
  rewarded: z.number().int().describe('invited users whose first payment earned the bonus'),
  bonus_days_earned: z.number().describe('bonus days granted, less any taken back after a refund'),
});

/** The user's referral code, made on first ask (unique index; a clash simply draws again). */
export async function ensureReferralCode(orm: MikroORM, userId: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const row = await sqlOne(
        orm,
        `update users set referral_code = coalesce(referral_code, ?) where id = ? returning referral_code`,
        [newReferralCode(), userId],
      );
      return row!.referral_code;
    } catch (err) {
      if ((err as { code?: string }).code !== '23505' || attempt > 5) throw err;
    }
  }
}

export async function referralSummary(
  orm: MikroORM,
  userId: string,
  botUsername: string | undefined,
): Promise<z.infer<typeof referralView>> {
  const code = await ensureReferralCode(orm, userId);
  const row = await sqlOne(
    orm,
    `select (select count(*)::int from users where referred_by = ?) as invited,
            count(*) filter (where r.status in ('granted', 'clawed_back'))::int as rewarded,
            coalesce(sum(case when r.status = 'granted' then r.bonus_seconds
                              when r.status = 'clawed_back' then r.bonus_seconds - coalesce(r.clawed_back_seconds, 0)
                              else 0 end), 0)::float / 86400 as days
       from referral_rewards r where r.referrer_user_id = ?`,
    [userId, userId],
  );
  return {
    link: startLink(botUsername, `ref_${code}`),
    code,
    invited: row?.invited ?? 0,
    rewarded: row?.rewarded ?? 0,
    bonus_days_earned: Math.round(Number(row?.days ?? 0) * 100) / 100,
  };
}
