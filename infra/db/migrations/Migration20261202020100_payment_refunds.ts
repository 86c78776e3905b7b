import { Migration } from '@mikro-orm/migrations';

/**
 * Partial refunds (a cancel's prorated share, an operator's refund): one `payment_refunds` row per refund,
 * and `payments.refunded_amount`, raised in the same transaction as the row is written, can never exceed the
 * payment's amount, so two refunds at once cannot return more than was paid. A refund goes back through the
 * provider that took the money or onto the user's balance.
 */
export class Migration20261202020100_payment_refunds extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table payments add column refunded_amount numeric(12,2) not null default 0;
alter table payments add constraint payments_refund_within_amount
  check (refunded_amount >= 0 and refunded_amount <= amount);

create table payment_refunds (
  id uuid primary key,
  payment_id uuid not null references payments(id),
  amount numeric(12,2) not null check (amount > 0),
  currency varchar(3) not null,
  destination varchar(16) not null check (destination in ('provider', 'balance')),
  kind varchar(16) not null check (kind in ('cancel', 'admin')),
  reason text not null,
  status varchar(16) not null default 'pending' check (status in ('pending', 'succeeded')),
  provider_refund_id varchar(128),
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index payment_refunds_payment_idx on payment_refunds (payment_id);`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists payment_refunds;
alter table payments drop constraint payments_refund_within_amount;
alter table payments drop column refunded_amount;`);
  }
}
