import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTelegramEmulator, type TelegramEmulator } from './telegram-emulator';

/** A Bot API answer, read field by field in the assertions. */
// biome-ignore lint/suspicious/noExplicitAny: JSON from the wire; each test asserts the fields it reads
type Json = any;

/** The emulator must behave like the Bot API where the bot and the notifier depend on it. */
describe('test/support/telegram-emulator', () => {
  let emu: TelegramEmulator;
  const api = (method: string, init?: RequestInit) => fetch(`${emu.url}/bot${emu.token}/${method}`, init);
  const post = (method: string, body: unknown) =>
    api(method, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, Json> }));

  beforeEach(async () => {
    emu = await startTelegramEmulator();
  });
  afterEach(() => emu.close());

  it('getUpdates honours offset (confirming) and the long-poll timeout', async () => {
    emu.injectMessage(1, 'a');
    emu.injectMessage(1, 'b');
    const first = await post('getUpdates', { offset: 0 });
    assert.deepEqual(
      first.body.result.map((u: Json) => u.message.text),
      ['a', 'b'],
    );
    const confirmed = await post('getUpdates', { offset: first.body.result[1].update_id });
    assert.deepEqual(
      confirmed.body.result.map((u: Json) => u.message.text),
      ['b'],
    );
    const started = Date.now();
    const empty = await post('getUpdates', { offset: first.body.result[1].update_id + 1, timeout: 1 });
    assert.deepEqual(empty.body.result, []);
    assert.ok(Date.now() - started >= 900, 'waited for the timeout');
    const waiting = post('getUpdates', { offset: first.body.result[1].update_id + 1, timeout: 10 });
    await emu.waitForPolling();
    emu.injectMessage(1, 'c');
    assert.equal((await waiting).body.result[0].message.text, 'c');
  });

  it('a second poller terminates the first with 409, like a second bot instance on Telegram', async () => {
    const first = post('getUpdates', { timeout: 10 });
    await emu.waitForPolling();
    const second = post('getUpdates', { timeout: 1 });
    const answer = await first;
    assert.equal(answer.status, 409);
    assert.match(answer.body.description, /terminated by other getUpdates request/);
    await second;
  });

  it('reads GET query strings and urlencoded bodies; rejects a wrong token and unknown methods', async () => {
    const viaGet = await api('sendMessage?chat_id=5&text=hello').then((r) => r.json() as Promise<Json>);
    assert.equal(viaGet.result.text, 'hello');
    const form = await api('sendMessage', {
      method: 'POST',
      body: new URLSearchParams({ chat_id: '5', text: 'form' }),
    });
    assert.equal(((await form.json()) as Json).result.text, 'form');
    assert.equal((await fetch(`${emu.url}/bot1:wrong/getMe`)).status, 401);
    const unknown = await post('sendTelepathy', {});
    assert.deepEqual(unknown, {
      status: 404,
      body: { ok: false, error_code: 404, description: 'Not Found' },
    });
  });

  it('pushes updates to the webhook with the secret header and refuses getUpdates meanwhile', async () => {
    const received: Array<{ secret?: string; body: Json }> = [];
    const server: Server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => {
        data += c;
      });
      req.on('end', () => {
        received.push({
          secret: req.headers['x-telegram-bot-api-secret-token'] as string,
          body: JSON.parse(data),
        });
        // A webhook reply: Telegram executes a method given in the response body.
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: 'sendMessage', chat_id: 7, text: 'via reply' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      assert.equal((await post('setWebhook', { url, secret_token: 's3cret' })).body.result, true);
      emu.injectMessage(7, 'hi');
      await emu.waitFor((c) => c.method === 'sendMessage' && c.params.text === 'via reply');
      assert.equal(received[0].secret, 's3cret');
      assert.equal(received[0].body.message.text, 'hi');
      assert.equal((await post('getUpdates', {})).status, 409);
      assert.equal((await post('getWebhookInfo', {})).body.result.url, url);
      assert.equal((await post('setWebhook', { url, secret_token: 'not allowed!' })).status, 400);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('limits sends to 30/s with 429 + retry_after (toggleable), and 403s blocked users', async () => {
    const burst = await Promise.all(
      Array.from({ length: 31 }, (_, i) => post('sendMessage', { chat_id: 100 + i, text: 'x' })),
    );
    const limited = burst.filter((r) => r.status === 429);
    assert.equal(limited.length, 1);
    assert.equal(limited[0].body.parameters.retry_after, 1);
    assert.match(limited[0].body.description, /^Too Many Requests: retry after/);
    emu.setRateLimit(false);
    assert.equal((await post('sendMessage', { chat_id: 1, text: 'x' })).status, 200);
    emu.blockUser(1);
    const blocked = await post('sendMessage', { chat_id: 1, text: 'x' });
    assert.deepEqual(blocked.body, {
      ok: false,
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
  });

  it('enforces Telegram’s content rules: 64-byte callback_data, HTML, not-modified edits, one-time answers', async () => {
    const long = await post('sendMessage', {
      chat_id: 1,
      text: 'x',
      reply_markup: { inline_keyboard: [[{ text: 'b', callback_data: 'x'.repeat(65) }]] },
    });
    assert.equal(long.body.description, 'Bad Request: BUTTON_DATA_INVALID');
    assert.equal((await post('sendMessage', { chat_id: 1, text: 'a < b', parse_mode: 'HTML' })).status, 400);
    const sent = await post('sendMessage', { chat_id: 1, text: 'same' });
    const edit = await post('editMessageText', {
      chat_id: 1,
      message_id: sent.body.result.message_id,
      text: 'same',
    });
    assert.match(edit.body.description, /message is not modified/);
    const id = emu.injectCallback(1, 'data');
    assert.equal((await post('answerCallbackQuery', { callback_query_id: id })).status, 200);
    assert.equal((await post('answerCallbackQuery', { callback_query_id: id })).status, 400);
    const stars = await post('sendInvoice', {
      chat_id: 1,
      title: 't',
      description: 'd',
      payload: 'p',
      currency: 'XTR',
      provider_token: 'x',
      prices: [{ label: 'a', amount: 1 }],
    });
    assert.equal(stars.status, 400);
  });
});
