import { Migration } from '@mikro-orm/migrations';

/**
 * Traffic quota (issue 12).
 *
 * `traffic_cursors`: per node and client email, the last monotonic totals the orchestrator took from the
 * agent, and the agent's epoch they belong to. Only the difference to the cursor is ever added, inside
 * the same transaction that moves the cursor, so a repeated or lost stats answer never counts twice.
 *
 * Subscriptions gain the usage of the current quota period (`period_upload_bytes`/`period_download_bytes`,
 * the key of that period in `traffic_period`) and the bytes traffic packs added to it (`traffic_extra_bytes`).
 * `upload_bytes`/`download_bytes` stay the lifetime totals.
 *
 * `quota_notices`: the outbox of "traffic used up" / "traffic back" messages, written in the same
 * transaction as the suspension or reset, sent by the quota workflow, each exactly once.
 */
export class Migration20261203030000_traffic_quota extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table traffic_cursors (
  node_id uuid not null references vpn_nodes(id) on delete cascade,
  email varchar(128) not null,
  epoch varchar(64) not null,
  uplink bigint not null check (uplink >= 0),
  downlink bigint not null check (downlink >= 0),
  updated_at timestamptz not null default now(),
  primary key (node_id, email)
);

alter table subscriptions add column period_upload_bytes bigint not null default 0;
alter table subscriptions add column period_download_bytes bigint not null default 0;
alter table subscriptions add column traffic_period varchar(64);
alter table subscriptions add column traffic_extra_bytes bigint not null default 0 check (traffic_extra_bytes >= 0);

create table quota_notices (
  id bigserial primary key,
  subscription_id uuid not null references subscriptions(id),
  kind varchar(24) not null check (kind in ('traffic_exhausted', 'traffic_restored')),
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index quota_notices_unsent_idx on quota_notices (id) where sent_at is null;

-- A traffic pack payment adds its bytes at most once (the same rule as a grant per payment).
create unique index subscription_events_one_pack_per_payment on subscription_events (payment_id)
  where type = 'traffic_pack_added';`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop index subscription_events_one_pack_per_payment;
drop table quota_notices;
alter table subscriptions drop column traffic_extra_bytes, drop column traffic_period,
  drop column period_download_bytes, drop column period_upload_bytes;
drop table traffic_cursors;`);
  }
}
