import { Migration } from '@mikro-orm/migrations';

/**
 * A refunded first payment takes its referral bonus back, whatever refunded it (a failed purchase, an unclaimed
 * gift, an operator's refund): a trigger in the refund's own transaction, so it happens exactly once.
 * Rule: the unused part comes back, at most the bonus: end = max(now, end − bonus) of the access it went to,
 * if that access still runs; a bonus already used up (the access has ended) is not taken back.
 * A reward not granted yet is closed, so it is never granted.
 */
export class Migration20261202015100_referral_clawback extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create function referral_clawback_on_refund() returns trigger language plpgsql as $$
declare
  r referral_rewards%rowtype;
  s subscriptions%rowtype;
  taken integer := 0;
begin
  select * into r from referral_rewards where payment_id = new.id for update;
  if not found or r.status = 'clawed_back' then
    return new;
  end if;
  if r.status = 'granted' and r.subscription_id is not null then
    select * into s from subscriptions where id = r.subscription_id for update;
    if found and s.status = 'active' and s.expires_at > now() then
      taken := least(r.bonus_seconds, floor(extract(epoch from s.expires_at - now()))::integer);
      update subscriptions set expires_at = expires_at - make_interval(secs => taken), updated_at = now()
       where id = s.id;
      insert into subscription_events (subscription_id, payment_id, type, data)
      values (s.id, null, 'referral_clawback', jsonb_build_object('reward_id', r.id, 'seconds', taken, 'refunded_payment_id', new.id));
    end if;
  end if;
  update referral_rewards set status = 'clawed_back', clawed_back_seconds = taken, clawed_back_at = now()
   where id = r.id;
  return new;
end $$;
create trigger payments_referral_clawback after update of status on payments
  for each row when (new.status = 'refunded' and old.status is distinct from 'refunded')
  execute function referral_clawback_on_refund();`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop trigger if exists payments_referral_clawback on payments;
drop function if exists referral_clawback_on_refund;`);
  }
}
