import { Migration } from '@mikro-orm/migrations';

/**
 * Top-ups by Telegram Stars (issue 13): the payment is in Stars (`amount`, `XTR`) but the balance is in
 * roubles, so a top-up keeps what it credits beside what it charges: `credit_amount` + `credit_currency`,
 * quoted at creation by TOPUP_STAR_RATE and never recomputed (a rate change later does not change a paid
 * top-up, nor what its refund takes back). Only a top-up has them, both or neither.
 */
export class Migration20261205000000_stars_topup extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table payments
  add column credit_amount numeric(12,2) check (credit_amount > 0),
  add column credit_currency varchar(3),
  add constraint payments_credit_only_on_topups check (
    (credit_amount is null and credit_currency is null)
    or (purpose = 'topup' and credit_amount is not null and credit_currency is not null)
  );`);
  }

  override async down(): Promise<void> {
    this.addSql(`
alter table payments
  drop constraint if exists payments_credit_only_on_topups,
  drop column if exists credit_currency,
  drop column if exists credit_amount;`);
  }
}
