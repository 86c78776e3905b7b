import { Migration } from '@mikro-orm/migrations';

/**
 * Stars subscriptions (issue 13). `stars_subscriptions`: one row per Stars payment made with auto-renew consent
 * (its invoice had `subscription_period`); Telegram charges it again every 30 days with the same payload, and
 * `charge_id` (the first charge) is what editUserStarSubscription cancels. `stars_subscription_charges`: one row
 * per recurring charge, keyed by Telegram's charge id, each paying for exactly one renewal payment. And a charge
 * id pays for at most one payment, ever (`payments_one_payment_per_star_charge`).
 */
export class Migration20261204050000_stars_subscriptions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create unique index payments_one_payment_per_star_charge on payments (telegram_payment_charge_id)
  where telegram_payment_charge_id is not null;

create table stars_subscriptions (
  payment_id uuid primary key references payments(id),
  user_id uuid not null references users(id),
  charge_id varchar(255) not null unique,
  status varchar(16) not null default 'active' check (status in ('active', 'canceled')),
  expires_at timestamptz,
  cancel_reason text,
  canceled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index stars_subscriptions_user_idx on stars_subscriptions (user_id) where status = 'active';

create table stars_subscription_charges (
  charge_id varchar(255) primary key,
  subscription_payment_id uuid not null references stars_subscriptions(payment_id),
  -- The renewal payment (purchase-<payment id>); its row is written by that purchase, after this one.
  payment_id uuid not null unique,
  outcome varchar(16) not null default 'renewing' check (outcome in ('renewing', 'refunding')),
  created_at timestamptz not null default now()
);`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists stars_subscription_charges;
drop table if exists stars_subscriptions;
drop index if exists payments_one_payment_per_star_charge;`);
  }
}
