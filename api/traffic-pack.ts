import type { MikroORM } from '@mikro-orm/postgresql';
import { type Row, sqlOne } from './db';
import { HttpError, invalidField } from './errors';

/**
 * Traffic packs (tariff kind `traffic_pack`) on payments/create: a pack tariff is always bought as purpose
 * `traffic_pack` (said or not), and only that purpose buys one. A pack adds bytes to the current period of
 * an active access, so without one nothing is charged: 409 `no_active_subscription`, before any payment.
 * Returns whether this request buys a pack.
 */
export async function trafficPackPurchase(
  orm: MikroORM,
  user: Row,
  tariff: Row,
  purpose: string | undefined,
): Promise<boolean> {
  const isPack = tariff.kind === 'traffic_pack';
  if (purpose === 'traffic_pack' && !isPack)
    throw invalidField('tariff_id', 'purpose "traffic_pack" needs a tariff of kind traffic_pack');
  if (!isPack) return false;
  if (purpose && purpose !== 'traffic_pack')
    throw invalidField('purpose', `a traffic pack is bought with purpose "traffic_pack", not "${purpose}"`);
  const active = await sqlOne(
    orm,
    `select id from subscriptions where user_id = ? and status = 'active' and expires_at > now() limit 1`,
    [user.id],
  );
  if (!active)
    throw new HttpError(
      409,
      'no_active_subscription',
      'a traffic pack adds traffic to an active subscription; buy a subscription first',
    );
  return true;
}
