import { Migration } from '@mikro-orm/migrations';

/**
 * Auto-renew (issue 13). `auto_renew_settings`: the user's opt-in and, for cards, YooKassa's id of the saved
 * method (a reference only: card data never reaches us). `auto_renew_charges`: one row per access per period
 * (its end), UNIQUE, so an automatic renewal can be attempted and succeed at most once per period however often
 * the lifetime workflow, a worker restart or a webhook repeats it. `payments.save_payment_method` records the
 * buyer's consent on the payment that saved the card.
 */
export class Migration20261203010000_auto_renew extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table payments add column save_payment_method boolean not null default false;

create table auto_renew_settings (
  user_id uuid primary key references users(id),
  enabled boolean not null default false,
  payment_method_id varchar(64),
  method_title varchar(128),
  saved_by_payment_id uuid references payments(id),
  updated_at timestamptz not null default now()
);

create table auto_renew_charges (
  id bigserial primary key,
  subscription_id uuid not null references subscriptions(id),
  period_end timestamptz not null,
  status varchar(16) not null default 'charging' check (status in ('charging', 'succeeded', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  payment_id uuid references payments(id),
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint auto_renew_charges_one_per_period unique (subscription_id, period_end)
);`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists auto_renew_charges;
drop table if exists auto_renew_settings;
alter table payments drop column save_payment_method;`);
  }
}
