import assert from 'node:assert/strict';
import { Journey, until } from '../support/journey';

// A paying user blocks the bot. Telegram answers 403 to the next message: that one refusal must be final
// (no retry storm against Telegram), the user is marked blocked, and the access still ends on time.
describe('journey: a user who blocked the bot', function () {
  this.timeout(120_000);
  const j = new Journey({ remindBefore: '6s', paymentTimeout: '1m' });
  const chat = 7_400_000_000 + Math.floor(Math.random() * 1_000_000) * 10;

  before(async () => {
    await j.start();
    await j.createTariff({ slug: 'quick-15s', name: 'Quick', price: '5.00', duration: 'PT15S' });
  });
  after(() => j.stop());

  it('gets exactly one 403, is marked blocked, and loses access on time', async () => {
    const u = j.user(chat);
    await u.start();
    const url = await u.chooseCard(/^Quick · /);
    const since = j.mark();
    await j.payOnPage(url);
    await u.waitMessage(/Your subscription is active until/, since, 30_000);
    await j.next(chat, since, { method: 'sendPhoto' });
    const { subscription_id: subscriptionId, end_date } = await j.status(chat);
    assert.ok(subscriptionId && end_date);
    const end = Date.parse(end_date);
    assert.ok((await j.nodeClients()).includes(subscriptionId));

    // The user blocks the bot before the reminder (due 6 s before the end).
    const blockedAt = j.mark();
    j.emu.blockUser(chat);

    // Access ends on time although no message can reach the user.
    const gone = await until(
      async () => !(await j.nodeClients()).includes(subscriptionId) && Date.now(),
      'the node to drop the client',
      end - Date.now() + 15_000,
      100,
    );
    console.log(`      client removed from the node ${gone - end} ms after the end`);
    assert.ok(gone >= end - 100, 'not before the end');
    assert.ok(gone - end < 3_000, `revoked ${gone - end} ms after the end`);
    await until(async () => (await j.status(chat)).status === 'expired', 'the subscription to expire', 5_000);
    assert.equal((await j.status(chat)).has_active_subscription, false);

    // Long enough for a retry storm to show: the telegram activities retry from 1 s on.
    await new Promise((r) => setTimeout(r, 4_000));
    const toUser = j.emu
      .calls()
      .slice(blockedAt)
      .filter((c) => Number(c.params.chat_id) === chat);
    assert.deepEqual(
      toUser.map((c) => [c.method, c.error?.error_code]),
      [['sendMessage', 403]],
      'one attempt (the reminder), refused once, never retried; the expiry message is not even tried',
    );
    const refusedAt = toUser[0].at;
    assert.ok(
      refusedAt >= end - 6_000 - 500 && refusedAt < end,
      `the reminder was attempted ${end - refusedAt} ms before the end`,
    );
    const [user] = await j.sql(`select is_blocked from users where telegram_id = ?`, [chat]);
    assert.equal(user.is_blocked, true, 'the user is marked blocked');
    const notes = await j.sql(
      `select kind, status from notifications where telegram_id = ? and kind <> 'activated' order by created_at`,
      [chat],
    );
    assert.deepEqual(
      notes.map((n) => `${n.kind}:${n.status}`),
      ['reminder:blocked'],
      'the reminder is recorded as blocked; the expiry message was never attempted',
    );
  });
});
