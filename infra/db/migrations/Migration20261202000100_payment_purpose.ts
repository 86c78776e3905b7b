import { Migration } from '@mikro-orm/migrations';

/**
 * What a payment buys (`purpose`) and the two providers that take no outside money: `balance` (the user's
 * own ledger) and `free` (a 100 % promo code, recorded as a zero-amount purchase). Existing rows are
 * subscription purchases by card or Stars, so they stay valid. `list_price` is the tariff price before any
 * discount or credit; `amount` stays what the provider was asked for.
 */
export class Migration20261202000100_payment_purpose extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table payments add column purpose varchar(16) not null default 'subscription'
  check (purpose in ('subscription', 'topup', 'gift', 'traffic_pack', 'upgrade'));
alter table payments add column list_price numeric(12,2) check (list_price is null or list_price >= 0);
alter table payments drop constraint payments_provider_check;
alter table payments add constraint payments_provider_check
  check (provider in ('yookassa', 'stars', 'balance', 'free'));
alter table payments drop constraint payments_amount_check;
alter table payments add constraint payments_amount_check
  check (amount > 0 or (amount = 0 and provider = 'free'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`
alter table payments drop constraint payments_amount_check;
alter table payments add constraint payments_amount_check check (amount > 0);
alter table payments drop constraint payments_provider_check;
alter table payments add constraint payments_provider_check check (provider in ('yookassa', 'stars'));
alter table payments drop column list_price;
alter table payments drop column purpose;`);
  }
}
