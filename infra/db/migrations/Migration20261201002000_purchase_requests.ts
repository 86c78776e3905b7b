import { Migration } from '@mikro-orm/migrations';

/**
 * Every accepted `POST /payments/create` is recorded here, with its payment id, before its workflow starts:
 * a retry with the same Idempotency-Key (or a concurrent duplicate) finds the same payment, and the per-user
 * purchase limits count these rows.
 */
export class Migration20261201002000_purchase_requests extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table purchase_requests (
  id bigserial primary key,
  telegram_id bigint not null,
  payment_id uuid not null,
  tariff_id integer not null,
  provider varchar(16) not null,
  idempotency_key varchar(255),
  request_hash char(64),
  response jsonb,
  created_at timestamptz not null default now(),
  unique (telegram_id, idempotency_key)
);
create index purchase_requests_user_idx on purchase_requests (telegram_id, created_at desc);
create index purchase_requests_payment_idx on purchase_requests (payment_id);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists purchase_requests;`);
  }
}
