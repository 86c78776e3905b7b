import { Migration } from '@mikro-orm/migrations';

/**
 * Referrals and gifts (issue 14). The database enforces the "once" rules:
 * - a user's referrer is set at most once, never to themselves, and never changed (trigger);
 * - one referral reward per referred user (unique referee), one per paying payment;
 * - one gift per gift payment, one claimant per gift, never the buyer.
 */
export class Migration20261202015000_referrals_gifts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table users add column referral_code varchar(16) unique;
alter table users add column referred_by uuid references users(id);
alter table users add column start_payload varchar(64);
alter table users add constraint users_no_self_referral check (referred_by is null or referred_by <> id);

create function users_referrer_is_final() returns trigger language plpgsql as $$
begin
  if old.referred_by is not null and new.referred_by is distinct from old.referred_by then
    raise exception 'a referrer is never changed';
  end if;
  return new;
end $$;
create trigger users_referrer_final before update of referred_by on users
  for each row execute function users_referrer_is_final();

create table referral_rewards (
  id bigserial primary key,
  referee_user_id uuid not null unique references users(id),
  referrer_user_id uuid not null references users(id),
  payment_id uuid not null unique references payments(id),
  bonus_seconds integer not null check (bonus_seconds >= 0),
  welcome_seconds integer not null default 0 check (welcome_seconds >= 0),
  welcome_subscription_id uuid references subscriptions(id),
  welcome_granted_at timestamptz,
  status varchar(16) not null default 'pending' check (status in ('pending', 'granted', 'clawed_back')),
  subscription_id uuid references subscriptions(id),
  granted_at timestamptz,
  clawed_back_seconds integer,
  clawed_back_at timestamptz,
  created_at timestamptz not null default now(),
  check (referee_user_id <> referrer_user_id)
);
create index referral_rewards_referrer_idx on referral_rewards (referrer_user_id);

create table gifts (
  id uuid primary key default gen_random_uuid(),
  code varchar(32) not null unique,
  code_hash char(64) not null unique,
  payment_id uuid not null unique references payments(id),
  buyer_user_id uuid not null references users(id),
  tariff_id integer not null references tariffs(id),
  status varchar(16) not null default 'unclaimed'
    check (status in ('unclaimed', 'claimed', 'refunding', 'refunded')),
  claim_until timestamptz not null,
  claimed_by uuid references users(id),
  claimed_at timestamptz,
  subscription_id uuid references subscriptions(id),
  refunded_at timestamptz,
  created_at timestamptz not null default now(),
  check (claimed_by is null or claimed_by <> buyer_user_id),
  check ((status = 'claimed') = (claimed_by is not null))
);
create index gifts_buyer_idx on gifts (buyer_user_id, created_at desc);`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists gifts, referral_rewards;
drop trigger if exists users_referrer_final on users;
drop function if exists users_referrer_is_final;
alter table users drop constraint users_no_self_referral;
alter table users drop column start_payload, drop column referred_by, drop column referral_code;`);
  }
}
