import { Migration } from '@mikro-orm/migrations';

/**
 * Trials, promo codes and the free-days grants both use.
 * - `trials`: one row per user EVER (primary key user_id), so a second or concurrent try fails in the database.
 * - `free_grants`: each free access/extension (a trial, a free-days code) applied at most once, keyed by its id.
 * - `promo_codes` + `promo_redemptions`: a redemption counts while its payment is pending or succeeded (or it
 *   has no payment: a free-days code); the count is taken under the code's row lock, so racing users never
 *   exceed max_uses.
 */
export class Migration20261202010000_trials_promo extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table free_grants (
  id varchar(100) primary key,
  user_id uuid not null references users(id),
  reason varchar(16) not null check (reason in ('trial', 'promo_days', 'referral', 'gift', 'admin')),
  duration_seconds integer not null check (duration_seconds > 0),
  subscription_id uuid references subscriptions(id),
  outcome varchar(16) check (outcome in ('activated', 'extended', 'superseded', 'failed')),
  created_at timestamptz not null default now(),
  applied_at timestamptz
);
create index free_grants_user_idx on free_grants (user_id);

create table trials (
  user_id uuid primary key references users(id),
  telegram_id bigint not null unique,
  subscription_id uuid not null unique,
  grant_id varchar(100) not null references free_grants(id),
  ends_at timestamptz not null,
  created_at timestamptz not null default now()
);

create table promo_codes (
  code varchar(32) primary key check (code ~ '^[A-Z0-9_-]{3,32}$'),
  kind varchar(8) not null check (kind in ('percent', 'amount', 'days')),
  value numeric(12,2) not null check (value > 0 and (kind <> 'percent' or value <= 100)
    and (kind <> 'days' or value = trunc(value))),
  max_uses integer check (max_uses is null or max_uses > 0),
  per_user_limit integer not null default 1 check (per_user_limit > 0),
  valid_from timestamptz,
  valid_until timestamptz,
  tariff_ids integer[],
  first_purchase_only boolean not null default false,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (valid_from is null or valid_until is null or valid_from < valid_until)
);

create table promo_redemptions (
  id bigserial primary key,
  code varchar(32) not null references promo_codes(code),
  user_id uuid not null references users(id),
  payment_id uuid unique,
  grant_id varchar(100) unique references free_grants(id),
  list_price numeric(12,2),
  discount numeric(12,2),
  amount numeric(12,2),
  currency varchar(3),
  days_added integer,
  created_at timestamptz not null default now()
);
create index promo_redemptions_code_user_idx on promo_redemptions (code, user_id);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists promo_redemptions, promo_codes, trials, free_grants cascade;`);
  }
}
