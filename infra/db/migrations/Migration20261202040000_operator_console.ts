import { Migration } from '@mikro-orm/migrations';

/**
 * The operator's console (issue 16):
 * - `users.banned_at`: an operator blocked this user (they cannot buy). Distinct from `is_blocked`, which
 *   means the user blocked the bot (Telegram answered 403).
 * - `broadcasts` and one `broadcast_deliveries` row per recipient: the dedupe that makes a broadcast
 *   reach each recipient once, whatever restarts happen.
 * - `alert_windows`: one row per alert key, so the same alert reaches the admin chat at most once per
 *   ALERT_REPEAT, with the count of what was held back.
 */
export class Migration20261202040000_operator_console extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table users add column banned_at timestamptz;
alter table users add column ban_reason text;

create table broadcasts (
  id uuid primary key,
  text text not null check (text <> ''),
  photo_url text,
  buttons jsonb not null default '[]'::jsonb,
  audience jsonb not null,
  total integer not null default 0 check (total >= 0),
  created_by varchar(128) not null,
  created_at timestamptz not null default now()
);

create table broadcast_deliveries (
  broadcast_id uuid not null references broadcasts(id),
  telegram_id bigint not null,
  status varchar(16) not null default 'pending'
    check (status in ('pending', 'sending', 'sent', 'failed', 'blocked')),
  detail text,
  updated_at timestamptz not null default now(),
  primary key (broadcast_id, telegram_id)
);
create index broadcast_deliveries_telegram on broadcast_deliveries (telegram_id);
-- The workflow pages through what is still to send.
create index broadcast_deliveries_pending on broadcast_deliveries (broadcast_id, telegram_id) where status = 'pending';

create table alert_windows (
  alert_key varchar(200) primary key,
  kind varchar(64) not null,
  last_sent_at timestamptz not null,
  held_back integer not null default 0 check (held_back >= 0),
  last_detail text
);`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists alert_windows;
drop table if exists broadcast_deliveries;
drop table if exists broadcasts;
alter table users drop column if exists ban_reason;
alter table users drop column if exists banned_at;`);
  }
}
