import { type Context, Input } from 'telegraf';
import { type BotDeps, cb, extra, show, textsFor } from '../ui';
import { autoRenewLine, autoRenewToggle } from './auto-renew';

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
    await ctx.reply(
      text,
      extra([
        // keep: this message holds the key, so its buttons open new messages instead of replacing it.
        [cb(m.buttons.renew, { type: 'renew', keep: true })],
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
