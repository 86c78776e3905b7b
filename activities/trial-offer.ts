import type { MikroORM } from '@mikro-orm/postgresql';
import { t } from '../infra/i18n';
import { encodeCallback } from '../infra/telegram/callbacks';
import type { InlineButton } from '../infra/telegram/sender';

// A running (unpaid) trial's reminder and end message offer the paid tariffs as buttons: one tap opens the
// chosen plan's payment methods, and paying keeps the trial's key (the purchase extends the trial access).

const MAX_OFFERED = 5;

/** True while this access is a trial no payment has extended yet. */
export async function isUnpaidTrial(orm: MikroORM, subscriptionId: string): Promise<boolean> {
  const rows = await orm.em.getConnection().execute(
    `select 1 from trials t where t.subscription_id = ?
        and not exists (select 1 from subscription_events e where e.subscription_id = t.subscription_id
                          and e.type = 'extended' and e.payment_id is not null)`,
    [subscriptionId],
  );
  return rows.length > 0;
}

/** One row per paid tariff on sale (as the catalog orders them), each a one-tap way into its purchase. */
export async function paidTariffButtons(orm: MikroORM, language: string): Promise<InlineButton[][]> {
  const m = t(language);
  const tariffs = await orm.em.getConnection().execute(
    `select id, name, duration_seconds, price, currency from tariffs where is_active and price > 0
        order by display_order, id limit ?`,
    [MAX_OFFERED],
  );
  return tariffs.map((r) => [
    {
      text: m.buttons.tariff({
        name: r.name,
        durationDays: Number(r.duration_seconds) / 86_400,
        price: r.price,
        currency: r.currency,
      }),
      // keep: the notification stays in the chat; the tariff screen opens as a new message.
      callbackData: encodeCallback({ type: 'tariff', tariffId: String(r.id), keep: true }),
    },
  ]);
}
