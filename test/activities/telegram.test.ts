import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/activity';
import { createTelegramActivities } from '../../activities/telegram';
import { seedTariffs } from '../../infra/db/seed';
import { createLogger } from '../../infra/logger';
import { fitsCaption, telegramTextLength } from '../../infra/telegram/caption';
import { createTelegramSender } from '../../infra/telegram/sender';
import { freshDatabase } from '../support/services';
import { type TelegramEmulator, startTelegramEmulator } from '../support/telegram-emulator';
import { Failure } from '../../workflows/failures';

describe('notification activities against the Bot API emulator', () => {
  let orm: MikroORM;
  let tg: TelegramEmulator;
  let notify: ReturnType<typeof createTelegramActivities>['notify'];
  before(async () => {
    orm = (await freshDatabase()).orm;
    tg = await startTelegramEmulator();
    const sender = createTelegramSender({ apiRoot: tg.url, botToken: tg.token });
    ({ notify } = createTelegramActivities({
      orm,
      sender,
      publicBaseUrl: 'http://vpn.test',
      logger: createLogger('t'),
    }));
    await orm.em
      .getConnection()
      .execute(
        `insert into users (telegram_id, language) values (801, 'en'), (802, 'ru'), (803, 'en'), (804, 'en')`,
      );
  });
  after(() => tg.close());

  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  };

  it('a retried notification is not sent twice', async () => {
    const n = { kind: 'payment_expired' as const, telegramId: '801', language: 'en', paymentId: 'p-1' };
    assert.equal(await notify(n), 'sent');
    assert.equal(await notify(n), 'skipped');
    assert.equal(tg.sentTo(801).length, 1);
  });

  it('keeps about one message a second per chat: the next one waits instead of bursting', async () => {
    const n = {
      kind: 'payment_failed' as const,
      telegramId: '801',
      language: 'en',
      paymentId: 'p-2',
      reason: 'card_expired',
    };
    const err = await failure(notify(n));
    assert.equal(err.type, 'ChatPace');
    assert.ok(err.nextRetryDelay, 'retried after a short delay, not dropped');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await notify(n), 'sent');
    assert.match(String(tg.sentTo(801).at(-1)?.params.text), /card has expired/);
  });

  it('a user who blocked the bot: one 403, marked blocked, no retries, no more messages', async () => {
    tg.blockUser(802);
    const err = await failure(
      notify({ kind: 'payment_expired', telegramId: '802', language: 'ru', paymentId: 'p-3' }),
    );
    assert.equal(err.type, Failure.TelegramBlocked);
    assert.equal(err.nonRetryable, true);
    const [u] = await orm.em.getConnection().execute(`select is_blocked from users where telegram_id = 802`);
    assert.equal(u.is_blocked, true);
    assert.equal(
      await notify({ kind: 'payment_expired', telegramId: '802', language: 'ru', paymentId: 'p-4' }),
      'blocked',
    );
    assert.equal(tg.calls().filter((c) => Number(c.params.chat_id) === 802).length, 1, 'exactly one attempt');
  });

  it('a 429 becomes a retry after Telegram’s retry_after', async () => {
    tg.failNext('sendMessage', { code: 429, retry_after: 3, chatId: 803 });
    const err = await failure(
      notify({ kind: 'payment_expired', telegramId: '803', language: 'en', paymentId: 'p-5' }),
    );
    assert.equal(err.type, 'TelegramRateLimited');
    assert.equal(err.nextRetryDelay, '3s');
    assert.equal(
      await notify({ kind: 'payment_expired', telegramId: '803', language: 'en', paymentId: 'p-5' }),
      'sent',
    );
  });

  it('REMIND_BEFORE=72h,24h: each reminder offset is delivered, each exactly once', async () => {
    const reminderSubscriptionId = randomUUID();
    const expiresAt = new Date(Date.now() + 80 * 3_600_000).toISOString();
    const reminder = (remindBeforeMs: number) => ({
      kind: 'reminder' as const,
      telegramId: '804',
      language: 'en',
      subscriptionId: reminderSubscriptionId, // a subscription id is a uuid (no row needed)
      expiresAt,
      remindBeforeMs,
    });
    assert.equal(await notify(reminder(72 * 3_600_000)), 'sent');
    assert.equal(await notify(reminder(72 * 3_600_000)), 'skipped', 'a retry of the 72h reminder');
    await new Promise((r) => setTimeout(r, 1_000)); // the per-chat pace
    assert.equal(await notify(reminder(24 * 3_600_000)), 'sent', 'the 24h reminder is its own message');
    assert.equal(await notify(reminder(24 * 3_600_000)), 'skipped');
    assert.equal(tg.sentTo(804).filter((c) => /ends in/.test(String(c.params.text))).length, 2);
  });

  describe('the activation: key and QR code', () => {
    /** An active subscription on a registered node, as the purchase leaves it; returns its id. */
    async function activeSubscription(telegramId: number): Promise<string> {
      const conn = orm.em.getConnection();
      const [user] = await conn.execute(
        `insert into users (telegram_id, language) values (?, 'en') returning id`,
        [telegramId],
      );
      const [node] = await conn.execute(
        `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token,
           reality_public_key, reality_short_id, reality_server_name)
         values (?, '203.0.113.7', 443, 'nl', 'NL', 10, 'agent', 'http://127.0.0.1:1', 'x',
                 'c2VjcmV0LXB1YmxpYy1rZXktZm9yLXRlc3RzLW9ubHk', 'a1b2', 'www.example.com')
         returning id`,
        [`caption-${telegramId}`],
      );
      const [tariff] = await conn.execute(`select id from tariffs order by id limit 1`);
      const [sub] = await conn.execute(
        `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email,
                                    subscription_token, starts_at, expires_at)
         values (gen_random_uuid(), ?, ?, ?, 'active', gen_random_uuid(), ?, md5(random()::text), now(),
                 now() + interval '30 days')
         returning id`,
        [user.id, tariff.id, node.id, `caption-${telegramId}`],
      );
      return sub.id;
    }

    const activation = (telegramId: number, subscriptionId: string) => ({
      kind: 'activated' as const,
      telegramId: String(telegramId),
      language: 'en',
      paymentId: `pay-${telegramId}`,
      subscriptionId,
    });

    before(async () => {
      const [tariff] = await orm.em.getConnection().execute(`select id from tariffs limit 1`);
      if (!tariff) await seedTariffs(orm);
    });

    it('one sendPhoto carries the key in its caption (one message against the budget, not two)', async () => {
      const sub = await activeSubscription(811);
      assert.equal(await notify(activation(811, sub)), 'sent');
      const sent = tg.sentTo(811);
      assert.deepEqual(
        sent.map((c) => c.method),
        ['sendPhoto'],
        'a single send',
      );
      const caption = String(sent[0].params.caption);
      assert.match(caption, /Your subscription is active until/);
      assert.match(caption, /vless:\/\/[0-9a-f-]{36}@203\.0\.113\.7:443/, 'the key itself');
      assert.match(caption, /http:\/\/vpn\.test\/sub\//, 'and the subscription URL');
      assert.equal(sent[0].params.parse_mode, 'HTML');
      assert.match(JSON.stringify(sent[0].params.reply_markup), /Setup guide/, 'with the setup guide button');
      assert.equal(await notify(activation(811, sub)), 'skipped', 'a retry sends nothing again');
      assert.equal(tg.sentTo(811).length, 1);
    });

    it('a key text longer than the 1024-character caption limit goes as a message, then the QR photo', async () => {
      const longBase = `http://vpn.test/${'x'.repeat(900)}`;
      const sender = createTelegramSender({ apiRoot: tg.url, botToken: tg.token });
      const { notify: notifyLong } = createTelegramActivities({
        orm,
        sender,
        publicBaseUrl: longBase,
        logger: createLogger('t'),
      });
      const sub = await activeSubscription(812);
      assert.equal(await notifyLong(activation(812, sub)), 'sent');
      const sent = tg.sentTo(812);
      assert.deepEqual(
        sent.map((c) => c.method),
        ['sendMessage', 'sendPhoto'],
      );
      assert.match(String(sent[0].params.text), /vless:\/\//);
      assert.match(String(sent[1].params.caption), /QR code/);
      const refused = tg.calls().filter((c) => Number(c.params.chat_id) === 812 && c.error);
      assert.deepEqual(refused, [], 'Telegram refused nothing (no caption too long)');
    });

    it('counts the caption as Telegram does: tags dropped, entities one character', () => {
      assert.equal(telegramTextLength('<b>a&amp;b</b> <code>&lt;x&gt;</code>'), 7);
      assert.equal(telegramTextLength('&#128512;'), 2, 'an emoji is two UTF-16 units');
      assert.equal(fitsCaption('x'.repeat(1024)), true);
      assert.equal(fitsCaption(`<b>${'x'.repeat(1025)}</b>`), false);
    });
  });
});
