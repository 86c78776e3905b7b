import { Migration } from '@mikro-orm/migrations';

/**
 * The audit trail of every operator action (the seed's `admin_logs`): who did what to which target, with
 * what parameters and what came of it. Append-only: nothing updates or deletes a row.
 */
export class Migration20261202000000_admin_actions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table admin_actions (
  id bigserial primary key,
  admin varchar(128) not null check (admin <> ''),
  action varchar(64) not null check (action <> ''),
  target varchar(128),
  params jsonb not null default '{}'::jsonb,
  result varchar(32) not null check (result in ('ok', 'refused', 'failed')),
  detail text,
  created_at timestamptz not null default now()
);
create index admin_actions_created_at on admin_actions (created_at desc);
create index admin_actions_target on admin_actions (target, created_at desc);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists admin_actions;');
  }
}
