import { Migration } from '@mikro-orm/migrations';

/**
 * One row per outside system (yookassa, telegram): the circuit breaker every process shares. Workers
 * write outcomes; the API reads it to refuse new work fast while a provider is down.
 * "half_open" is not stored: it is an open breaker whose `opened_at + BREAKER_OPEN_FOR` has passed.
 */
export class Migration20261201004000_circuit_breakers extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table circuit_breakers (
  system varchar(32) primary key,
  state varchar(8) not null default 'closed' check (state in ('closed', 'open')),
  failures integer not null default 0 check (failures >= 0),
  opened_at timestamptz,
  probe_at timestamptz,
  last_error text,
  updated_at timestamptz not null default now(),
  check ((state = 'open') = (opened_at is not null))
);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists circuit_breakers;');
  }
}
