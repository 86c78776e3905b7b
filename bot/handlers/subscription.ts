import { type Context, Input } from 'telegraf';
import { langFor } from '../../infra/i18n';
import { formatBytes, quotaTexts } from '../../infra/i18n/quota';
import type { SubscriptionStatus } from '../api-schemas';
import { type BotDeps, cb, extra, show, textsFor } from '../ui';
import { autoRenewLine, autoRenewToggle } from './auto-renew';
import { deviceTexts } from '../../infra/i18n/devices';

/** "📊 Traffic: 1.2 GB of 50 GB" (the current quota period; "unlimited" without a limit). */
function usageLine(ctx: Context, status: SubscriptionStatus): string {
  const { m, lang } = quotaTexts(langFor(ctx.from?.language_code));
  const limit = status.traffic_limit_bytes;
  return m.usage({
    used: formatBytes(status.traffic_used_bytes ?? 0, lang),
    allowance: limit == null ? null : formatBytes(limit, lang),
    suspended: status.suspended === true,
  });
}

/** My subscription: the key, URL and QR when active; otherwise the last payment's fate and a Buy button. */
export async function showSubscription(ctx: Context, deps: BotDeps): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const status = await deps.api.subscriptionStatus(from.id);
  const config = status?.has_active_subscription ? await deps.api.subscriptionConfig(from.id) : null;
  if (status && config) {
    const qr = Buffer.from(config.qr_png_base64, 'base64');
    await ctx.replyWithPhoto(Input.fromBuffer(qr, 'qr.png'), { caption: m.subscription.qrCaption });
    const text = `${m.subscription.active({
      tariffName: status.tariff_name,
      daysRemaining: status.days_remaining ?? 0,
      endDate: status.end_date ?? '',
      vlessUrl: config.vless_url,
      subscriptionUrl: config.subscription_url,
    })}\n\n${autoRenewLine(m, status)}`;
    // A running trial says so, and that paying keeps this key.
    const trial =
      status.trial?.state === 'active' && status.end_date ? m.growth.trialActive(status.end_date) : null;
    await ctx.reply(
      [text, trial, usageLine(ctx, status)].filter(Boolean).join('\n\n'),
      extra([
        // keep: this message holds the key, so its buttons open new messages instead of replacing it.
        [cb(m.buttons.renew, { type: 'renew', keep: true })],
        [cb(m.planChange.button, { type: 'changePlan', keep: true })],
        [cb(deviceTexts(from.language_code).button, { type: 'devices', op: 'list', keep: true })],
        [autoRenewToggle(m, status.auto_renewal === true)],
        [
          cb(m.buttons.setupGuide, { type: 'guides', keep: true }),
          cb(m.buttons.menu, { type: 'menu', keep: true }),
        ],
      ]),
    );
    return;
  }
  await show(ctx, m.subscription.notActive(status?.last_payment_status), [
    [cb(m.buttons.buy, { type: 'tariffs' })],
    [cb(m.buttons.menu, { type: 'menu' })],
  ]);
}
