import { Migration } from '@mikro-orm/migrations';

/**
 * The user's balance: `balance_entries` is the append-only ledger (one row per credit or debit, unique per
 * reason + reference, so a top-up credits once and a purchase debits once however often it is retried), and
 * `balances` holds the running total, moved ONLY by the ledger's insert trigger in the same statement. The
 * check `balance >= 0` makes an overdraft impossible: a debit the balance does not cover fails as a whole.
 * A top-up payment buys no tariff, so `payments.tariff_id` may be null for purpose `topup` (only).
 */
export class Migration20261202020000_balance_ledger extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table payments alter column tariff_id drop not null;
alter table payments add constraint payments_tariff_required check (tariff_id is not null or purpose = 'topup');
alter table purchase_requests alter column tariff_id drop not null;

create table balances (
  user_id uuid primary key references users(id),
  balance numeric(12,2) not null default 0 constraint balances_not_negative check (balance >= 0),
  currency char(3) not null default 'RUB',
  updated_at timestamptz not null default now()
);

create table balance_entries (
  id bigserial primary key,
  user_id uuid not null references users(id),
  amount numeric(12,2) not null check (amount <> 0),
  currency char(3) not null default 'RUB',
  reason varchar(16) not null
    check (reason in ('topup', 'purchase', 'refund', 'cancel_refund', 'admin_refund', 'adjustment')),
  reference varchar(128) not null,
  payment_id uuid references payments(id),
  created_at timestamptz not null default now(),
  unique (reason, reference)
);
create index balance_entries_user_idx on balance_entries (user_id, id desc);

-- The only way a balance moves: an entry. A debit below zero violates balances_not_negative and fails the insert.
create function balance_entries_apply() returns trigger language plpgsql as $$
begin
  -- A zero row first (a negative proposed row would fail the check even when the row exists), then the move.
  insert into balances (user_id, balance, currency) values (new.user_id, 0, new.currency)
    on conflict (user_id) do nothing;
  update balances set balance = balance + new.amount, updated_at = now() where user_id = new.user_id;
  return null;
end $$;
create trigger balance_entries_apply after insert on balance_entries
  for each row execute function balance_entries_apply();

-- Append-only: the ledger is evidence for money questions.
create function balance_entries_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'balance_entries is append-only';
end $$;
create trigger balance_entries_no_update before update or delete on balance_entries
  for each row execute function balance_entries_append_only();`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists balance_entries, balances;
drop function if exists balance_entries_apply;
drop function if exists balance_entries_append_only;
alter table purchase_requests alter column tariff_id set not null;
alter table payments drop constraint payments_tariff_required;
alter table payments alter column tariff_id set not null;`);
  }
}
