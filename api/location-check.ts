import type { MikroORM } from '@mikro-orm/postgresql';
import { type Row, sqlOne } from './db';
import { HttpError } from './errors';

/**
 * Policy: one active access per user, so a tariff for another location cannot be bought while one runs
 * (it would extend the wrong access). Refused before any payment exists; plan changes will lift this.
 */
export async function refuseOtherLocation(orm: MikroORM, user: Row, tariff: Row): Promise<void> {
  if (!tariff.location) return; // "any location" tariffs extend whatever runs
  const active = await sqlOne(
    orm,
    `select n.location from subscriptions s join vpn_nodes n on n.id = s.node_id
      where s.user_id = ? and s.status = 'active' and s.expires_at > now() limit 1`,
    [user.id],
  );
  if (!active?.location || String(active.location).toLowerCase() === String(tariff.location).toLowerCase())
    return;
  throw new HttpError(
    409,
    'location_mismatch',
    `the active subscription is in ${active.location}; a ${tariff.location} tariff can be bought once it ends`,
  );
}
