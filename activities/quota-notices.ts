import type { MikroORM } from '@mikro-orm/postgresql';
import { formatBytes, quotaTexts } from '../infra/i18n/quota';
import { encodeCallback } from '../infra/telegram/callbacks';
import type { InlineButton } from '../infra/telegram/sender';
import type { Notification } from '../workflows/notification-messages';

export type QuotaNotificationKind = 'traffic_exhausted' | 'traffic_restored' | 'traffic_pack_added';

/** The access's usage and allowance of the current period (null allowance = unlimited). */
export async function periodUsage(orm: MikroORM, subscriptionId: string) {
  const [r] = await orm.em.getConnection().execute(
    `select s.period_upload_bytes + s.period_download_bytes as used, t.traffic_limit_bytes + s.traffic_extra_bytes as allowance
       from subscriptions s join tariffs t on t.id = s.tariff_id where s.id = ?`,
    [subscriptionId],
  );
  return { used: Number(r?.used ?? 0), allowance: r?.allowance == null ? null : Number(r.allowance) };
}

/**
 * Texts and buttons of the quota messages. "Buy a traffic pack" opens the cheapest pack on sale (the
 * bot's tariff screen; payments/create sells it as purpose traffic_pack), "Upgrade" the catalog.
 */
export async function composeQuotaNotice(
  orm: MikroORM,
  n: Notification & { kind: QuotaNotificationKind },
): Promise<{ text: string; buttons?: InlineButton[][] }> {
  const { m, lang } = quotaTexts(n.language);
  const usage = await periodUsage(orm, n.subscriptionId!);
  const size = (b: number | null) => (b === null ? null : formatBytes(b, lang));
  if (n.kind === 'traffic_restored') return { text: m.restored };
  if (n.kind === 'traffic_pack_added') {
    const [e] = await orm.em
      .getConnection()
      .execute(
        `select data->>'bytes' as bytes from subscription_events where payment_id = ? and type = 'traffic_pack_added'`,
        [n.paymentId],
      );
    return {
      text: m.packAdded({
        added: formatBytes(Number(e?.bytes ?? 0), lang),
        used: formatBytes(usage.used, lang),
        allowance: size(usage.allowance),
      }),
    };
  }
  const [pack] = await orm.em
    .getConnection()
    .execute(`select id from tariffs where is_active and kind = 'traffic_pack' order by price, id limit 1`);
  const buttons: InlineButton[][] = [];
  if (pack)
    buttons.push([
      {
        text: m.buyPack,
        callbackData: encodeCallback({ type: 'tariff', tariffId: String(pack.id), keep: true }),
      },
    ]);
  buttons.push([{ text: m.upgrade, callbackData: encodeCallback({ type: 'tariffs', keep: true }) }]);
  return { text: m.exhausted({ limit: size(usage.allowance) ?? '∞' }), buttons };
}
