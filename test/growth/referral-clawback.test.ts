import assert from 'node:assert/strict';
import { subscriptionWorkflowId } from '../../workflows/purchase-messages';
import { subscriptionStatusQuery } from '../../workflows/subscription-messages';
import { type ApiHarness, ADMIN_TOKEN, startApiOnSystem } from '../api/harness';
import { PurchaseSystem } from '../support/system';
import { httpGetViaSocks, startHttpTarget, startXrayClient, type XrayClient } from '../support/xray';
import { activeAccess, buyAndPay, register, until } from './helpers';

// Refund of a referee's first payment: the referrer's unused bonus comes off their access everywhere — in the
// database (trigger), in the lifetime workflow's end, and on the node when that ends the access.

const REFERRER_NEW = 840_001; // no access of their own: the bonus is all they have
const FRIEND_A = 840_002;
const REFERRER_PAID = 840_003; // a paid month of their own, then the bonus
const FRIEND_B = 840_004;
const BOT = 'claw_test_bot';
const WEEK_MS = 7 * 86_400_000;

describe('referral clawback on refund: the lifetime end moves back, the key leaves the node when it ends the access', function () {
  this.timeout(240_000);
  const sys = new PurchaseSystem({ growth: { botUsername: BOT } });
  let api: ApiHarness;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  const clients: XrayClient[] = [];
  const q = (sql: string, params: unknown[] = []) => sys.orm.em.getConnection().execute(sql, params);

  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('claw-hour', 3_600, { price: '100.00' });
    await sys.createTariff('claw-month', 30 * 86_400, { price: '300.00' });
    api = await startApiOnSystem(sys, { BOT_USERNAME: BOT });
    web = await startHttpTarget();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await web?.close();
    await api?.close();
    await sys.stop();
  });

  const referralCode = async (tg: number) =>
    (await api.call('GET', `/api/v1/users/${tg}/referral`)).body.code as string;
  const rewardOf = async (referee: number) =>
    (
      await q(
        `select r.* from referral_rewards r join users u on u.id = r.referee_user_id where u.telegram_id = ?`,
        [referee],
      )
    )[0];
  const lifetimeEnd = async (subscriptionId: string) =>
    Date.parse(
      (
        await sys.client.workflow
          .getHandle(subscriptionWorkflowId(subscriptionId))
          .query(subscriptionStatusQuery)
      ).expiresAt,
    );
  const adminRefund = async (paymentId: string) => {
    const res = await api.call('POST', `/api/v1/admin/payments/${paymentId}/refund`, {
      token: ADMIN_TOKEN,
      body: { reason: 'referee asked for the money back' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'succeeded');
  };
  const tunnelWorks = (c: XrayClient) =>
    httpGetViaSocks(c.socksPort, web.url('/hello'), { timeoutMs: 5_000 }).then(
      (r) => r.status === 200,
      () => false,
    );

  it('a bonus that is the whole access: the refund ends it and the key stops carrying traffic', async () => {
    await register(api, REFERRER_NEW);
    await register(api, FRIEND_A, `ref_${await referralCode(REFERRER_NEW)}`);
    const { paymentId } = await buyAndPay(sys, api, FRIEND_A, 'claw-hour');
    const bonus = await until('the bonus access', async () =>
      (await rewardOf(FRIEND_A))?.status === 'granted' ? activeAccess(sys, REFERRER_NEW) : null,
    );
    const client = await startXrayClient(sys.xray!.linkFor(bonus.client_uuid));
    clients.push(client);
    await until('the bonus key to carry traffic', () => tunnelWorks(client));

    await adminRefund(paymentId);

    const reward = await until('the clawback', async () => {
      const r = await rewardOf(FRIEND_A);
      return r?.status === 'clawed_back' ? r : null;
    });
    // All that was left of the week is taken back: the access ends now, not in 7 days.
    assert.ok(reward.clawed_back_seconds > WEEK_MS / 1000 - 120, String(reward.clawed_back_seconds));
    await until(
      'the bonus client to leave the node',
      async () => !(await sys.nodeClients()).includes(bonus.client_email),
      60_000,
    );
    await until('the tunnel to close', async () => !(await tunnelWorks(client)), 30_000);
    await until('the access recorded as over', async () => {
      const [s] = await q(`select status from subscriptions where id = ?`, [bonus.id]);
      return s.status === 'expired';
    });
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === REFERRER_NEW && /expired|ended|истек/i.test(String(c.params.text)),
      30_000,
    );
  });

  it('a bonus on top of a paid month: the refund takes exactly the bonus off, the lifetime and the key follow', async () => {
    await register(api, REFERRER_PAID);
    await buyAndPay(sys, api, REFERRER_PAID, 'claw-month');
    const own = await activeAccess(sys, REFERRER_PAID);
    const ownEnd = new Date(own.expires_at).getTime();
    await register(api, FRIEND_B, `ref_${await referralCode(REFERRER_PAID)}`);
    const { paymentId } = await buyAndPay(sys, api, FRIEND_B, 'claw-hour');
    await until('the bonus', async () => (await rewardOf(FRIEND_B))?.status === 'granted');
    await until(
      'the lifetime to know the bonus',
      async () => (await lifetimeEnd(own.id)) === ownEnd + WEEK_MS,
    );
    const client = await startXrayClient(sys.xray!.linkFor(own.client_uuid));
    clients.push(client);

    await adminRefund(paymentId);

    await until('the clawback', async () => (await rewardOf(FRIEND_B))?.status === 'clawed_back');
    assert.equal((await rewardOf(FRIEND_B)).clawed_back_seconds, WEEK_MS / 1000);
    assert.equal(new Date((await activeAccess(sys, REFERRER_PAID)).expires_at).getTime(), ownEnd);
    // Before the fix the lifetime kept the bonus end (a week longer on the node than paid for).
    await until(
      'the lifetime end to move back by the bonus',
      async () => (await lifetimeEnd(own.id)) === ownEnd,
    );
    // The paid month itself is untouched: the key still works.
    assert.ok((await sys.nodeClients()).includes(own.client_email));
    await until('the own key to carry traffic', () => tunnelWorks(client));
  });
});
