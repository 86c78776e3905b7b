import { Migration } from '@mikro-orm/migrations';

/**
 * Fleet: capacity reserved at selection, and drains.
 *
 * `node_reservations`: a slot a purchase took on a node between selection and its grant. Selection counts
 * them (under one advisory lock), so concurrent purchases cannot take a node's last slot twice. The grant
 * deletes its reservation in the same transaction that makes the access count instead; a purchase that
 * never grants (refunded) leaves one that stops counting at `expires_at`.
 *
 * `vpn_nodes.draining_at`: set while a drain moves the node's accesses away; such a node is out of selection.
 * `node_drains` / `node_drain_moves`: the drain's progress and one row per access moved (or failed), unique per
 * node + access, so a resumed drain never moves or tells anyone twice.
 */
export class Migration20261203040000_fleet_capacity_drain extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table node_reservations (
  holder varchar(64) primary key,
  node_id uuid not null references vpn_nodes(id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index node_reservations_node_idx on node_reservations (node_id, expires_at);

alter table vpn_nodes add column draining_at timestamptz;
-- Since when the node is down (NODE_DEAD_MIGRATE_AFTER drains it after that long); kept by a trigger, so
-- every writer of status (health rounds, the admin API) keeps it right.
alter table vpn_nodes add column down_since timestamptz;
create function vpn_nodes_down_since() returns trigger language plpgsql as $$
begin
  if new.status = 'down' then new.down_since := coalesce(old.down_since, now());
  else new.down_since := null;
  end if;
  -- An operator putting a drained node back (POST .../enable) puts it back into selection too.
  if old.status = 'disabled' and new.status <> 'disabled' then new.draining_at := null;
  end if;
  return new;
end $$;
create trigger vpn_nodes_down_since before update of status on vpn_nodes
  for each row execute function vpn_nodes_down_since();

-- A vless-link user is sent the new key when the access moves; one who fetched the subscription URL is not.
alter table subscriptions add column sub_fetched_at timestamptz;

create table node_drains (
  node_id uuid primary key references vpn_nodes(id) on delete cascade,
  workflow_id varchar(128) not null,
  state varchar(16) not null default 'running' check (state in ('running', 'done', 'failed')),
  reason varchar(32) not null default 'admin',
  started_at timestamptz not null default now(),
  finished_at timestamptz
);

create table node_drain_moves (
  node_id uuid not null references vpn_nodes(id) on delete cascade,
  subscription_id uuid not null references subscriptions(id),
  to_node_id uuid references vpn_nodes(id),
  state varchar(8) not null check (state in ('moved', 'failed')),
  error text,
  created_at timestamptz not null default now(),
  primary key (node_id, subscription_id)
);`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table node_drain_moves;
drop table node_drains;
alter table subscriptions drop column sub_fetched_at;
drop trigger vpn_nodes_down_since on vpn_nodes;
drop function vpn_nodes_down_since;
alter table vpn_nodes drop column down_since, drop column draining_at;
drop table node_reservations;`);
  }
}
