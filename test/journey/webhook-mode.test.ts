import assert from 'node:assert/strict';
import { SECRET_HEADER } from '../../bot/webhook';
import { Journey, textOf } from '../support/journey';

// The bot in webhook mode (BOT_MODE=webhook) in front of the real API. test/bot/webhook.test.ts covers the
// route against a fake API; here Telegram's pushes drive a real purchase, and a forged push changes nothing.
describe('journey: the bot in webhook mode, on the real API', function () {
  this.timeout(120_000);
  const SECRET = 'journey_Webhook-secret_42';
  const j = new Journey({ botMode: 'webhook', webhookSecret: SECRET });
  const base = 7_500_000_000 + Math.floor(Math.random() * 1_000_000) * 10;

  before(async () => {
    await j.start();
    await j.createTariff({ slug: 'day', name: 'Day', price: '15.00', duration: 'P1D', display_order: -10 });
  });
  after(() => j.stop());

  const userRow = async (telegramId: number) =>
    (await j.sql(`select telegram_id, first_name from users where telegram_id = ?`, [telegramId]))[0];

  it('registers its URL with the secret and sells through the updates Telegram pushes', async () => {
    const [set] = j.emu.calls('setWebhook');
    assert.equal(set.params.url, j.hookUrl);
    assert.equal(set.params.secret_token, SECRET);

    const u = j.user(base + 1, { first_name: 'Webhook' });
    const menu = await u.start();
    assert.match(textOf(menu), /Hi, Webhook/);
    assert.equal((await userRow(u.id))?.first_name, 'Webhook', 'registered in the real database');
    const url = await u.chooseCard(/^Day · /);
    const since = j.mark();
    await j.payOnPage(url);
    await u.waitMessage(/Your subscription is active until/, since, 30_000);
    assert.equal((await j.status(u.id)).has_active_subscription, true);

    const deliveries = j.emu.webhookDeliveries();
    assert.ok(deliveries.length >= 4, `${deliveries.length} updates pushed`);
    assert.ok(
      deliveries.every((d) => d.status === 200),
      JSON.stringify(deliveries),
    );
    // As on Telegram, nobody can poll while the webhook is set.
    const poll = await fetch(`${j.emu.url}/bot${j.emu.token}/getUpdates`);
    assert.equal(poll.status, 409);
  });

  it('answers 403 to a wrong or missing secret, and such an update reaches neither the bot nor the API', async () => {
    const stranger = base + 2;
    const update = {
      update_id: 900_001,
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: stranger, type: 'private', first_name: 'Mallory' },
        from: { id: stranger, is_bot: false, first_name: 'Mallory', language_code: 'en' },
        text: '/start',
        entities: [{ type: 'bot_command', offset: 0, length: 6 }],
      },
    };
    const push = (headers: Record<string, string>) =>
      fetch(j.hookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(update),
      });
    const since = j.mark();
    assert.equal((await push({ [SECRET_HEADER]: 'wrong-secret' })).status, 403);
    assert.equal((await push({ [SECRET_HEADER]: `${SECRET}x` })).status, 403);
    assert.equal((await push({})).status, 403);
    assert.equal(await userRow(stranger), undefined, 'nothing reached the API');
    assert.deepEqual(
      j.emu
        .calls()
        .slice(since)
        .filter((c) => Number(c.params.chat_id) === stranger),
      [],
      'and the bot said nothing',
    );

    // The same update with the right secret is Telegram's: handled, and the user registered for real.
    // The bot answers 200 once the update is queued, so the reply shows it has been handled.
    assert.equal((await push({ [SECRET_HEADER]: SECRET })).status, 200);
    await j.next(stranger, since, { method: 'sendMessage', text: /Hi, Mallory/ });
    assert.equal((await userRow(stranger))?.first_name, 'Mallory');
  });
});
