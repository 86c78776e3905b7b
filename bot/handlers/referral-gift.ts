import type { Context } from 'telegraf';
import { ApiRequestError } from '../api-client';
import { type BotDeps, cb, mainMenuRows, show, textsFor } from '../ui';

// The invite screen (referral link, invited count, days earned) and claiming a gift from /start gift_<code>.

const START_PARAMETER = /^[A-Za-z0-9_-]{1,64}$/;

/** A payload Telegram could have sent as a /start parameter (the API keeps it at first registration). */
export const startPayloadOf = (payload: string) => (START_PARAMETER.test(payload) ? payload : undefined);

export function giftCodeIn(payload: string): string | undefined {
  return /^gift_([A-Za-z0-9_-]{16,32})$/.exec(payload)?.[1];
}

export async function showReferral(ctx: Context, deps: BotDeps): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const r = await deps.api.referral(from.id);
  // Without BOT_USERNAME on the API the bot builds the link from its own name.
  const link = r.link ?? `https://t.me/${ctx.botInfo?.username ?? ''}?start=ref_${r.code}`;
  await show(
    ctx,
    m.referralGift.referralScreen({
      link,
      invited: r.invited,
      rewarded: r.rewarded,
      bonusDaysEarned: r.bonus_days_earned,
      bonusDays: deps.referralBonusDays ?? 7,
    }),
    [[cb(m.referralGift.myGiftsButton, { type: 'myGifts' })], [cb(m.buttons.menu, { type: 'menu' })]],
  );
}

export async function claimGiftFromStart(ctx: Context, deps: BotDeps, code: string): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const menu = mainMenuRows(m, deps.supportUrl);
  try {
    const claimed = await deps.api.claimGift(code, from.id);
    await show(ctx, m.referralGift.giftReceived({ expiresAt: claimed.end_date }), menu);
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err;
    const error = (err.body as { error?: string } | undefined)?.error;
    const text =
      error === 'gift_claimed'
        ? m.referralGift.giftAlreadyClaimed
        : error === 'own_gift'
          ? m.referralGift.giftOwn
          : error === 'gift_expired'
            ? m.referralGift.giftExpired
            : m.referralGift.giftUnknown;
    deps.logger.info({ telegramId: from.id, error }, 'gift claim refused');
    await show(ctx, text, menu);
  }
}
