import { Migration } from '@mikro-orm/migrations';

/**
 * Plan changes (issue 13): one row per requested change of an access's tariff. An upgrade is `open` while its
 * payment (id = this row's id, purpose `upgrade`) runs and `applied` once the access has the new tariff; a
 * downgrade is `scheduled` until the next renewal applies it. At most one open or scheduled change per access,
 * enforced here, so two taps (or two API calls at once) make one change and one payment.
 */
export class Migration20261203020000_plan_changes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table plan_changes (
  id uuid primary key,
  subscription_id uuid not null references subscriptions(id),
  user_id uuid not null references users(id),
  kind varchar(16) not null check (kind in ('upgrade', 'downgrade')),
  from_tariff_id integer not null references tariffs(id),
  to_tariff_id integer not null references tariffs(id),
  credit numeric(12,2) not null default 0 check (credit >= 0),
  amount numeric(12,2) not null default 0 check (amount >= 0),
  currency char(3) not null,
  provider varchar(16),
  quoted_expires_at timestamptz not null,
  status varchar(16) not null
    check (status in ('open', 'applied', 'lapsed', 'scheduled', 'superseded', 'canceled')),
  new_expires_at timestamptz,
  applied_payment_id uuid,
  created_at timestamptz not null default now(),
  settled_at timestamptz
);
create unique index plan_changes_one_pending_per_access on plan_changes (subscription_id)
  where status in ('open', 'scheduled');
create index plan_changes_user_idx on plan_changes (user_id, created_at desc);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists plan_changes;`);
  }
}
