import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/activity';
import { createTelegramActivities } from '../../activities/telegram';
import { createLogger } from '../../infra/logger';
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
    const expiresAt = new Date(Date.now() + 80 * 3_600_000).toISOString();
    const reminder = (remindBeforeMs: number) => ({
      kind: 'reminder' as const,
      telegramId: '804',
      language: 'en',
      subscriptionId: 's-1',
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
});
