import assert from 'node:assert/strict';
import { type ApiHarness, ADMIN_TOKEN, startApiOnSystem } from '../api/harness';
import { PurchaseSystem } from '../support/system';
import { type WorkerProcess, spawnWorker } from '../support/worker-process';
import { activeAccess, buyAndPay, register, until } from './helpers';

const REFERRER = 820_001;
const FRIEND = 820_002;
const SECOND = 820_003;
const KILLED = 820_004;
const REFUNDED = 820_005;
const STRANGER = 820_006;
const BOT = 'ref_test_bot';
const WEEK_MS = 7 * 86_400_000;

const q = (sys: PurchaseSystem, sql: string, params: unknown[] = []) =>
  sys.orm.em.getConnection().execute(sql, params);

async function rewardsOf(sys: PurchaseSystem, referee: number) {
  return q(
    sys,
    `select r.* from referral_rewards r join users u on u.id = r.referee_user_id where u.telegram_id = ?`,
    [referee],
  );
}

const bonusMessages = (sys: PurchaseSystem) =>
  sys.telegram.sentTo(REFERRER).filter((c) => /Your friend paid/.test(String(c.params.text)));

describe('referrals: attribution at first /start, +REFERRAL_BONUS_DAYS exactly once, clawback on refund', function () {
  this.timeout(300_000);
  const sys = new PurchaseSystem({ growth: { botUsername: BOT } });
  let api: ApiHarness;
  let code: string;
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('ref-hour', 3_600, { price: '100.00' });
    api = await startApiOnSystem(sys, { BOT_USERNAME: BOT, GIFT_CLAIM_WINDOW: '3s' });
  });
  after(async () => {
    await api?.close();
    await sys.stop();
  });

  it('the referral link, attribution at first registration only, no self-referral, a referrer never changes', async () => {
    await register(api, REFERRER);
    const mine = await api.call('GET', `/api/v1/users/${REFERRER}/referral`);
    assert.equal(mine.status, 200, mine.text);
    code = mine.body.code;
    assert.equal(mine.body.link, `https://t.me/${BOT}?start=ref_${code}`);
    assert.deepEqual(
      { ...mine.body, link: undefined, code: undefined },
      {
        link: undefined,
        code: undefined,
        invited: 0,
        rewarded: 0,
        bonus_days_earned: 0,
      },
    );

    assert.equal((await register(api, FRIEND, `ref_${code}`)).status, 201);
    // Self-referral: the referrer opening their own link is a known user; nothing changes.
    assert.equal((await register(api, REFERRER, `ref_${code}`)).status, 200);
    // A second /start with another payload does not move the attribution.
    await register(api, STRANGER);
    const other = (await api.call('GET', `/api/v1/users/${STRANGER}/referral`)).body.code;
    assert.equal((await register(api, FRIEND, `ref_${other}`)).status, 200);
    const users = await q(
      sys,
      `select u.telegram_id, r.telegram_id as referrer, u.start_payload from users u left join users r on r.id = u.referred_by
        where u.telegram_id in (?, ?) order by u.telegram_id`,
      [REFERRER, FRIEND],
    );
    assert.deepEqual(
      users.map((u) => [Number(u.telegram_id), u.referrer && Number(u.referrer), u.start_payload]),
      [
        [REFERRER, null, null],
        [FRIEND, REFERRER, `ref_${code}`],
      ],
    );
    // The database itself refuses a self-referral and a changed referrer.
    await assert.rejects(
      q(sys, `update users set referred_by = id where telegram_id = ?`, [REFERRER]),
      /users_no_self_referral/,
    );
    await assert.rejects(
      q(
        sys,
        `update users set referred_by = (select id from users where telegram_id = ?) where telegram_id = ?`,
        [STRANGER, FRIEND],
      ),
      /referrer is never changed/,
    );
    assert.equal((await api.call('GET', `/api/v1/users/${REFERRER}/referral`)).body.invited, 1);
    assert.equal((await api.call('GET', '/api/v1/users/999999/referral')).status, 404);
  });

  it("the referee's first payment gives a referrer without access a new 7-day access and a message, once", async () => {
    const { result } = await buyAndPay(sys, api, FRIEND, 'ref-hour');
    assert.equal(result.outcome, 'granted');
    const access = await until('the referrer access', () => activeAccess(sys, REFERRER));
    assert.equal(new Date(access.expires_at).getTime() - new Date(access.starts_at).getTime(), WEEK_MS);
    assert.ok((await sys.nodeClients()).includes(access.id), 'the bonus key is on the node');
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === REFERRER && /Your friend paid/.test(String(c.params.text)),
      30_000,
    );
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === REFERRER && c.method === 'sendPhoto',
      30_000,
    );

    // A renewal of the referee is not a first payment: nothing more.
    assert.equal((await buyAndPay(sys, api, FRIEND, 'ref-hour')).result.outcome, 'extended');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal((await rewardsOf(sys, FRIEND)).length, 1);
    assert.equal(
      new Date((await activeAccess(sys, REFERRER)).expires_at).getTime(),
      new Date(access.expires_at).getTime(),
    );
    assert.equal(bonusMessages(sys).length, 1);

    const summary = await api.call('GET', `/api/v1/users/${REFERRER}/referral`);
    assert.deepEqual(
      [summary.body.invited, summary.body.rewarded, summary.body.bonus_days_earned],
      [1, 1, 7],
    );
  });

  it('a second referee extends the running access by exactly 7 days', async () => {
    await register(api, SECOND, `ref_${code}`);
    const before = new Date((await activeAccess(sys, REFERRER)).expires_at).getTime();
    await buyAndPay(sys, api, SECOND, 'ref-hour');
    await until('the bonus', async () => (await rewardsOf(sys, SECOND))[0]?.status === 'granted');
    const after = await activeAccess(sys, REFERRER);
    assert.equal(new Date(after.expires_at).getTime() - before, WEEK_MS);
    await until('two bonus messages', async () => bonusMessages(sys).length === 2);
  });

  it('exactly once with the worker process killed at each stage', async () => {
    await sys.stopWorkers();
    let worker: WorkerProcess | undefined;
    // The next worker is up before the current one is SIGKILLed, so the test waits only for Temporal's timeouts.
    const restart = async () => {
      const next = await spawnWorker(sys, { REFERRAL_BONUS_DAYS: '7', BOT_USERNAME: BOT });
      await worker?.kill();
      worker = next;
    };
    try {
      await register(api, KILLED, `ref_${code}`);
      const before = new Date((await activeAccess(sys, REFERRER)).expires_at).getTime();
      const messagesBefore = bonusMessages(sys).length;
      await restart();
      const buying = buyAndPay(sys, api, KILLED, 'ref-hour');
      const stages: Array<[string, () => Promise<boolean>]> = [
        [
          'payment succeeded',
          async () =>
            (
              await q(
                sys,
                `select 1 from payments p join users u on u.id = p.user_id where u.telegram_id = ? and p.status = 'succeeded'`,
                [KILLED],
              )
            ).length > 0,
        ],
        ['reward recorded', async () => (await rewardsOf(sys, KILLED)).length > 0],
        ['bonus granted', async () => (await rewardsOf(sys, KILLED))[0]?.status === 'granted'],
      ];
      for (const [stage, reached] of stages) {
        await until(stage, reached, 60_000);
        await restart(); // SIGKILL mid-flow, then a fresh worker process
      }
      assert.equal((await buying).result.outcome, 'granted');
      await until('the bonus message', async () => bonusMessages(sys).length > messagesBefore, 60_000);
      await sys.client.workflow.getHandle(`referral-${KILLED}`).result();
      await new Promise((r) => setTimeout(r, 1_000));

      const rewards = await rewardsOf(sys, KILLED);
      assert.equal(rewards.length, 1);
      assert.equal(rewards[0].status, 'granted');
      const after = await activeAccess(sys, REFERRER);
      assert.equal(new Date(after.expires_at).getTime() - before, WEEK_MS, 'exactly +7 days, once');
      const events = await q(
        sys,
        `select count(*)::int as n from subscription_events where type = 'referral_bonus' and data->'grant'->>'rewardId' = ?`,
        [String(rewards[0].id)],
      );
      assert.equal(events[0].n, 1);
      assert.equal(bonusMessages(sys).length, messagesBefore + 1, 'one message');
    } finally {
      await worker?.kill();
      await sys.startWorkers();
    }
  });

  it('a refund of the first payment takes the unused bonus back', async () => {
    await register(api, REFUNDED, `ref_${code}`);
    const before = new Date((await activeAccess(sys, REFERRER)).expires_at).getTime();
    // The referee's first payment is a gift nobody claims: refunded at the end of the 3 s window.
    const { paymentId } = await buyAndPay(sys, api, REFUNDED, 'ref-hour', 'gift');
    await until('the bonus', async () => (await rewardsOf(sys, REFUNDED))[0]?.status === 'granted');
    assert.equal(new Date((await activeAccess(sys, REFERRER)).expires_at).getTime() - before, WEEK_MS);
    await until(
      'the refund',
      async () =>
        (await q(sys, `select status from payments where id = ?`, [paymentId]))[0].status === 'refunded',
      60_000,
    );

    const [reward] = await rewardsOf(sys, REFUNDED);
    assert.equal(reward.status, 'clawed_back');
    assert.equal(reward.clawed_back_seconds, WEEK_MS / 1000);
    assert.equal(
      new Date((await activeAccess(sys, REFERRER)).expires_at).getTime(),
      before,
      'back to the end before the bonus',
    );
    const summary = await api.call('GET', `/api/v1/users/${REFERRER}/referral`);
    assert.equal(summary.body.bonus_days_earned, 21, 'three bonuses kept, one taken back');
    const stats = await api.call('GET', '/api/v1/admin/stats', { token: ADMIN_TOKEN });
    assert.equal(stats.body.referrals.bonus_days_clawed_back, 7);
    const top = await api.call('GET', '/api/v1/admin/referrals', { token: ADMIN_TOKEN });
    assert.equal(top.body.referrers[0].telegram_id, REFERRER);
    assert.equal(top.body.referrers[0].invited, 4);
  });
});
