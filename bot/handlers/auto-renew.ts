import type { Context } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import type { SubscriptionStatus } from '../api-client';
import type { Messages } from '../../infra/i18n';
import { type BotDeps, cb, show, textsFor } from '../ui';
import { showSubscription } from './subscription';

// Auto-renew in the bot (issue 13): the consent text before a card payment that saves the card, and the switch
// in "My subscription". The API keeps the state; the lifetime workflow re-reads it before every charge.

/** Telegram renews a Stars subscription every 30 days, so only a 30-day tariff with a Stars price offers it. */
const STARS_SUBSCRIPTION_DAYS = 30;

/** The consent screen: what auto-renew does, then pay with it (card, or a Stars subscription) or without it. */
export async function showAutoRenewConsent(ctx: Context, tariffId: string, deps?: BotDeps): Promise<void> {
  const m = textsFor(ctx);
  const tariff = deps ? (await deps.api.listTariffs()).find((t) => t.id === tariffId) : undefined;
  const stars =
    tariff?.star_price && tariff.duration_days === STARS_SUBSCRIPTION_DAYS ? tariff.star_price : null;
  await show(
    ctx,
    stars ? `${m.autoRenew.consent}\n\n${m.starsSubscription.consent(stars)}` : m.autoRenew.consent,
    [
      [cb(m.autoRenew.withAutoRenew, { type: 'payAutoRenew', tariffId })],
      ...(stars
        ? [[cb(m.starsSubscription.subscribe(stars), { type: 'payAutoRenew', tariffId, method: 'stars' })]]
        : []),
      [cb(m.autoRenew.withoutAutoRenew, { type: 'pay', method: 'card', tariffId })],
      [cb(m.buttons.back, { type: 'tariff', tariffId })],
    ],
  );
}

/** The line under the key in "My subscription". */
export function autoRenewLine(m: Messages, status: SubscriptionStatus): string {
  return m.autoRenew.statusLine({
    enabled: status.auto_renewal === true,
    nextChargeAt: status.next_charge_at ?? null,
    method: status.auto_renewal_method ?? null,
  });
}

export function autoRenewToggle(m: Messages, enabled: boolean): InlineKeyboardButton {
  return enabled
    ? cb(m.autoRenew.turnOff, { type: 'autoRenew', on: false, keep: true })
    : cb(m.autoRenew.turnOn, { type: 'autoRenew', on: true, keep: true });
}

/** The toggle: switch at the API, say so, then show the subscription again with the new state. */
export async function switchAutoRenew(ctx: Context, deps: BotDeps, on: boolean): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  await deps.api.setAutoRenew(from.id, on);
  await ctx.reply(on ? m.autoRenew.turnedOn : m.autoRenew.turnedOff);
  await showSubscription(ctx, deps);
}
