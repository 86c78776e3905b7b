import assert from 'node:assert/strict';
import type { Telegraf } from 'telegraf';
import { createApiClient } from '../../bot/api-client';
import { createBot } from '../../bot/create-bot';
import { SECRET_HEADER, startWebhook, type WebhookServer } from '../../bot/webhook';
import { createLogger } from '../../infra/logger';
import { type FakeApi, startFakeApi } from '../support/fake-api';
import { startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator';

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('bot: webhook mode', () => {
  const secret = 'webhook_Secret-123';
  let emu: TelegramEmulator;
  let api: FakeApi;
  let bot: Telegraf;
  let hook: WebhookServer;
  let hookUrl: string;

  beforeEach(async () => {
    emu = await startTelegramEmulator();
    api = await startFakeApi();
    const logger = createLogger('bot-webhook-test', { write: () => undefined });
    const client = createApiClient({ baseUrl: api.url, apiToken: api.apiToken, timeoutMs: 2000 });
    bot = createBot({
      token: emu.token,
      apiRoot: emu.url,
      api: client,
      supportUrl: 'https://t.me/support',
      adminIds: [],
      logger,
    });
    hook = await startWebhook({
      bot,
      url: (port) => `http://127.0.0.1:${port}/telegram/webhook`,
      secret,
      port: 0,
      host: '127.0.0.1',
      logger,
    });
    hookUrl = `http://127.0.0.1:${hook.port}/telegram/webhook`;
  });
  afterEach(async () => {
    await hook.close();
    await emu.close();
    await api.close();
  });

  it('registers itself with setWebhook and the secret, then handles updates Telegram pushes', async () => {
    const [set] = emu.calls('setWebhook');
    assert.equal(set.params.url, hookUrl);
    assert.equal(set.params.secret_token, secret);
    emu.injectCommand(4004, 'start');
    const menu = await emu.waitFor((c) => c.method === 'sendMessage' && c.params.chat_id === 4004);
    assert.match(String(menu.params.text), /Привет/);
    assert.equal(api.calls('POST /api/v1/users/register').length, 1);
    // The bot answers Telegram after handling the update, so the delivery completes after the reply.
    await until(() => emu.webhookDeliveries().length === 1);
    assert.equal(emu.webhookDeliveries()[0].status, 200);
    // Callbacks go the same way; getUpdates is refused while the webhook is set, as on Telegram.
    const id = emu.injectCallback(4004, 'g');
    await emu.waitFor((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === id);
    const poll = await fetch(`${emu.url}/bot${emu.token}/getUpdates`);
    assert.equal(poll.status, 409);
  });

  it('answers 403 to a wrong or missing secret and does not handle the update', async () => {
    const update = {
      update_id: 999,
      message: {
        message_id: 1,
        date: 0,
        chat: { id: 5005, type: 'private' },
        from: { id: 5005, is_bot: false, first_name: 'X' },
        text: '/start',
        entities: [{ type: 'bot_command', offset: 0, length: 6 }],
      },
    };
    const post = (headers: Record<string, string>) =>
      fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(update),
      });
    assert.equal((await post({ [SECRET_HEADER]: 'wrong-secret' })).status, 403);
    assert.equal((await post({})).status, 403);
    assert.equal((await fetch(`http://127.0.0.1:${hook.port}/elsewhere`, { method: 'POST' })).status, 404);
    assert.equal(api.calls().length, 0);
    assert.equal(emu.calls('sendMessage').length, 0);
    // The right secret on the same request is accepted.
    assert.equal((await post({ [SECRET_HEADER]: secret })).status, 200);
    // Handled after the 200 (the update is queued): the menu reply shows it was served.
    await emu.waitFor((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === 5005);
    assert.equal(api.calls('POST /api/v1/users/register').length, 1);
  });
});
