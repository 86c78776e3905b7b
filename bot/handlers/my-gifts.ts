import type { Context } from 'telegraf';
import { type BotDeps, cb, show, textsFor } from '../ui';

/** My gifts (from the invite screen): each gift bought, what became of it, and its link while claimable. */
export async function showMyGifts(ctx: Context, deps: BotDeps): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const gifts = await deps.api.myGifts(from.id);
  const back = [[cb(m.buttons.back, { type: 'referral' })], [cb(m.buttons.menu, { type: 'menu' })]];
  if (gifts.length === 0) return show(ctx, m.referralGift.myGiftsEmpty, back);
  const lines = gifts.map((g) =>
    m.referralGift.myGift({
      tariffName: g.tariff_name,
      status: g.status,
      claimUntil: g.claim_until,
      claimedAt: g.claimed_at,
      // Without BOT_USERNAME on the API the bot builds the link from its own name.
      link:
        g.link ??
        (g.start_parameter ? `https://t.me/${ctx.botInfo?.username ?? ''}?start=${g.start_parameter}` : null),
    }),
  );
  await show(ctx, [m.referralGift.myGiftsTitle(gifts.length), ...lines].join('\n'), back);
}
