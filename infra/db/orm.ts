import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Migration20261122000000_initial } from './migrations/Migration20261122000000_initial';
import { Migration20261201002000_purchase_requests } from './migrations/Migration20261201002000_purchase_requests';
import { Migration20261201003000_node_agent_tls } from './migrations/Migration20261201003000_node_agent_tls';
import { Migration20261201004000_circuit_breakers } from './migrations/Migration20261201004000_circuit_breakers';
import { Migration20261202000000_admin_actions } from './migrations/Migration20261202000000_admin_actions';
import { Migration20261202000100_payment_purpose } from './migrations/Migration20261202000100_payment_purpose';
import { Migration20261202010000_trials_promo } from './migrations/Migration20261202010000_trials_promo';
import { Migration20261202015000_referrals_gifts } from './migrations/Migration20261202015000_referrals_gifts';
import { Migration20261202015100_referral_clawback } from './migrations/Migration20261202015100_referral_clawback';
import { Migration20261202020000_balance_ledger } from './migrations/Migration20261202020000_balance_ledger';
import { Migration20261202020100_payment_refunds } from './migrations/Migration20261202020100_payment_refunds';
import { Migration20261202030000_plan_limits_devices } from './migrations/Migration20261202030000_plan_limits_devices';
import { Migration20261202040000_operator_console } from './migrations/Migration20261202040000_operator_console';
import { Migration20261203010000_auto_renew } from './migrations/Migration20261203010000_auto_renew';
import { Migration20261203020000_plan_changes } from './migrations/Migration20261203020000_plan_changes';
import { Migration20261203030000_traffic_quota } from './migrations/Migration20261203030000_traffic_quota';
import { Migration20261203040000_fleet_capacity_drain } from './migrations/Migration20261203040000_fleet_capacity_drain';
import { Migration20261204040000_device_os_model } from './migrations/Migration20261204040000_device_os_model';
import { Migration20261204050000_stars_subscriptions } from './migrations/Migration20261204050000_stars_subscriptions';
import { Migration20261205000000_stars_topup } from './migrations/Migration20261205000000_stars_topup';

/** Migrations are listed explicitly so they run the same from tsx, compiled JS, or a bundle. */
export const migrationsList = [
  { name: 'Migration20261122000000_initial', class: Migration20261122000000_initial },
  { name: 'Migration20261201002000_purchase_requests', class: Migration20261201002000_purchase_requests },
  { name: 'Migration20261201003000_node_agent_tls', class: Migration20261201003000_node_agent_tls },
  { name: 'Migration20261201004000_circuit_breakers', class: Migration20261201004000_circuit_breakers },
  { name: 'Migration20261202000000_admin_actions', class: Migration20261202000000_admin_actions },
  { name: 'Migration20261202000100_payment_purpose', class: Migration20261202000100_payment_purpose },
  { name: 'Migration20261202010000_trials_promo', class: Migration20261202010000_trials_promo },
  { name: 'Migration20261202015000_referrals_gifts', class: Migration20261202015000_referrals_gifts },
  { name: 'Migration20261202015100_referral_clawback', class: Migration20261202015100_referral_clawback },
  { name: 'Migration20261202020000_balance_ledger', class: Migration20261202020000_balance_ledger },
  { name: 'Migration20261202020100_payment_refunds', class: Migration20261202020100_payment_refunds },
  { name: 'Migration20261202030000_plan_limits_devices', class: Migration20261202030000_plan_limits_devices },
  { name: 'Migration20261202040000_operator_console', class: Migration20261202040000_operator_console },
  { name: 'Migration20261203010000_auto_renew', class: Migration20261203010000_auto_renew },
  { name: 'Migration20261203020000_plan_changes', class: Migration20261203020000_plan_changes },
  { name: 'Migration20261203030000_traffic_quota', class: Migration20261203030000_traffic_quota },
  {
    name: 'Migration20261203040000_fleet_capacity_drain',
    class: Migration20261203040000_fleet_capacity_drain,
  },
  { name: 'Migration20261204040000_device_os_model', class: Migration20261204040000_device_os_model },
  { name: 'Migration20261204050000_stars_subscriptions', class: Migration20261204050000_stars_subscriptions },
  { name: 'Migration20261205000000_stars_topup', class: Migration20261205000000_stars_topup },
];

export async function openOrm(databaseUrl: string, opts: { pool?: number } = {}): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: databaseUrl,
    // Every query is plain SQL over the migrated schema; the ORM is only a pool, a transaction helper and the migrator.
    entities: [],
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    pool: { min: 0, max: opts.pool ?? 10 },
    discovery: { warnWhenNoEntities: false },
    debug: false,
    allowGlobalContext: false,
  });
}

/** Applies every pending migration; running it again is a no-op. Returns the names applied now. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
