import { Migration } from '@mikro-orm/migrations';

/** The course-project schema. Money is numeric(12,2), never float; durations are whole seconds. */
export class Migration20261122000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table users (
  id uuid primary key default gen_random_uuid(),
  telegram_id bigint not null unique,
  username varchar(64),
  first_name varchar(128),
  last_name varchar(128),
  language varchar(8) not null default 'ru',
  referral varchar(64),
  is_blocked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index users_username_idx on users (lower(username));

create table tariffs (
  id serial primary key,
  slug varchar(64) not null unique,
  name varchar(128) not null,
  description text not null default '',
  price numeric(12,2) not null check (price > 0),
  currency char(3) not null default 'RUB',
  duration_seconds integer not null check (duration_seconds > 0),
  star_price integer check (star_price is null or star_price > 0),
  location varchar(64),
  is_active boolean not null default true,
  display_order integer not null default 0,
  created_at timestamptz not null default now()
);

create table vpn_nodes (
  id uuid primary key default gen_random_uuid(),
  name varchar(64) not null unique,
  host varchar(255) not null,
  port integer not null check (port between 1 and 65535),
  location varchar(64) not null,
  country_code char(2) not null,
  capacity integer not null check (capacity >= 0),
  driver varchar(8) not null check (driver in ('agent', 'ssh')),
  agent_url varchar(255),
  agent_token varchar(255),
  ssh jsonb,
  reality_public_key varchar(128) not null,
  reality_short_id varchar(16) not null default '',
  reality_server_name varchar(255) not null,
  status varchar(8) not null default 'up' check (status in ('up', 'down', 'disabled')),
  consecutive_failures integer not null default 0,
  client_count integer not null default 0,
  last_health_check timestamptz,
  last_error text,
  created_at timestamptz not null default now()
);

create table payments (
  id uuid primary key,
  user_id uuid not null references users(id),
  tariff_id integer not null references tariffs(id),
  provider varchar(16) not null check (provider in ('yookassa', 'stars')),
  provider_payment_id varchar(128),
  status varchar(16) not null default 'pending'
    check (status in ('pending', 'succeeded', 'canceled', 'expired', 'refunded')),
  amount numeric(12,2) not null check (amount > 0),
  currency varchar(3) not null,
  confirmation_url text,
  cancellation_reason varchar(64),
  telegram_payment_charge_id varchar(255),
  refund_id varchar(128),
  subscription_id uuid,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  paid_at timestamptz,
  refunded_at timestamptz,
  unique (provider, provider_payment_id)
);
create index payments_user_idx on payments (user_id, created_at desc);
create index payments_paid_at_idx on payments (paid_at) where status in ('succeeded', 'refunded');

create table subscriptions (
  id uuid primary key,
  user_id uuid not null references users(id),
  tariff_id integer not null references tariffs(id),
  node_id uuid not null references vpn_nodes(id),
  status varchar(16) not null check (status in ('active', 'revoking', 'expired', 'refunded')),
  client_uuid uuid not null,
  client_email varchar(64) not null,
  subscription_token varchar(64) not null unique,
  starts_at timestamptz not null,
  expires_at timestamptz not null,
  upload_bytes bigint not null default 0,
  download_bytes bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index subscriptions_one_active_per_user on subscriptions (user_id) where status = 'active';
create index subscriptions_expires_at_idx on subscriptions (expires_at);
create index subscriptions_node_idx on subscriptions (node_id) where status = 'active';

create table subscription_events (
  id bigserial primary key,
  subscription_id uuid references subscriptions(id),
  payment_id uuid references payments(id),
  type varchar(32) not null,
  data jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index subscription_events_sub_idx on subscription_events (subscription_id, id);
-- A payment grants access at most once: this is the database half of "each payment extends exactly once".
create unique index subscription_events_one_grant_per_payment on subscription_events (payment_id)
  where type in ('activated', 'extended');

-- Append-only: history is evidence for money questions.
create function subscription_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'subscription_events is append-only';
end $$;
create trigger subscription_events_no_update before update or delete on subscription_events
  for each row execute function subscription_events_append_only();

-- One row per user-visible notification, so a retried activity never sends the same message twice.
create table notifications (
  dedupe_key varchar(200) primary key,
  telegram_id bigint not null,
  kind varchar(32) not null,
  status varchar(16) not null default 'sending' check (status in ('sending', 'sent', 'blocked', 'failed')),
  created_at timestamptz not null default now(),
  sent_at timestamptz
);

create table catalog_views (
  id bigserial primary key,
  user_id uuid not null references users(id),
  created_at timestamptz not null default now()
);
`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists catalog_views, notifications, subscription_events, subscriptions, payments, vpn_nodes, tariffs, users cascade;
drop function if exists subscription_events_append_only;`);
  }
}
