import { Migration } from '@mikro-orm/migrations';

/**
 * Plan limits and the data plane's desired state.
 *
 * Tariffs gain traffic and device limits, several locations and a kind. Existing rows stay valid and mean
 * what they meant: no traffic limit, no device limit, `locations` = their one `location` (or none = any).
 * `location` is kept (the purchase still reads it) and the API keeps it equal to `locations[1]`.
 *
 * `devices`: one row per extra device of an access, each with its own Xray client (uuid + email) on the
 * access's node. The access's own key (client_email = subscription id) is the first device and has no row.
 * `node_strays`: clients a node reported that nobody wants, with when the reconcile first saw them, so an
 * unknown client (e.g. a purchase between AddClient and its commit) is only removed after a grace period.
 */
export class Migration20261202030000_plan_limits_devices extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table tariffs add column traffic_limit_bytes bigint
  check (traffic_limit_bytes is null or traffic_limit_bytes > 0);
alter table tariffs add column traffic_reset varchar(8) not null default 'never'
  check (traffic_reset in ('never', 'monthly', 'period'));
alter table tariffs add column device_limit integer check (device_limit is null or device_limit between 1 and 100);
alter table tariffs add column locations text[] not null default '{}';
update tariffs set locations = array[location] where location is not null;
alter table tariffs add column kind varchar(16) not null default 'subscription'
  check (kind in ('subscription', 'traffic_pack'));
alter table tariffs add column traffic_pack_bytes bigint check (traffic_pack_bytes is null or traffic_pack_bytes > 0);
alter table tariffs add constraint tariffs_traffic_pack_shape
  check ((kind = 'traffic_pack') = (traffic_pack_bytes is not null));

-- Set while the access's traffic is used up (its clients are off every node); cleared by a reset or a pack.
alter table subscriptions add column suspended_at timestamptz;

create table devices (
  id uuid primary key default gen_random_uuid(),
  subscription_id uuid not null references subscriptions(id),
  name varchar(64) not null,
  hwid varchar(128),
  client_uuid uuid not null unique,
  client_email varchar(64) not null unique,
  created_at timestamptz not null default now(),
  removed_at timestamptz
);
create index devices_subscription_idx on devices (subscription_id) where removed_at is null;
-- One live device per hardware id and access: a client app sending x-hwid twice registers once.
create unique index devices_one_per_hwid on devices (subscription_id, hwid) where removed_at is null and hwid is not null;

create table node_strays (
  node_id uuid not null references vpn_nodes(id) on delete cascade,
  email varchar(128) not null,
  first_seen timestamptz not null default now(),
  primary key (node_id, email)
);

create table node_reconciles (
  id bigserial primary key,
  node_id uuid not null references vpn_nodes(id) on delete cascade,
  added integer not null,
  removed integer not null,
  desired integer not null,
  created_at timestamptz not null default now()
);
create index node_reconciles_node_idx on node_reconciles (node_id, id desc);`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table node_reconciles;
drop table node_strays;
drop table devices;
alter table subscriptions drop column suspended_at;
alter table tariffs drop constraint tariffs_traffic_pack_shape;
alter table tariffs drop column traffic_pack_bytes, drop column kind, drop column locations,
  drop column device_limit, drop column traffic_reset, drop column traffic_limit_bytes;`);
  }
}
