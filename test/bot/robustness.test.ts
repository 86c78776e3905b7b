import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { type BotHarness, startBotHarness } from './harness';

/** A port nothing listens on: the API "is down" (connection refused). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('bot: robustness', () => {
  let h: BotHarness;
  const chat = 3003;
  afterEach(() => h.stop());

  it('answers an unknown or stale callback politely and does nothing else', async () => {
    h = await startBotHarness();
    const since = h.mark();
    const id = h.emu.injectCallback(chat, 'zz:from-an-old-version');
    const answer = await h.emu.waitFor(
      (c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === id,
    );
    assert.ok(!answer.error);
    assert.match(String(answer.params.text), /устарела/);
    assert.equal(
      h.emu
        .calls()
        .slice(since)
        .filter((c) => /^(send|edit)/.test(c.method)).length,
      0,
    );
    assert.equal(h.api.calls().length, 0);
  });

  it('the API being down → a friendly message, and buttons that need no API keep working', async () => {
    h = await startBotHarness({ apiUrl: `http://127.0.0.1:${await deadPort()}` });
    const since = h.mark();
    h.emu.injectCommand(chat, 'start');
    const reply = await h.next('sendMessage', chat, since);
    assert.match(String(reply.params.text), /временно недоступен/);
    assert.ok(h.logs.some((l) => l.msg === 'update handling failed' && l.level === 40));
    // Buttons that need no API still work while it is down.
    const later = h.mark();
    h.emu.injectCallback(chat, 'g');
    const guides = await h.screen(chat, later);
    assert.match(String(guides.params.text), /устройстве/);
  });

  it('a 5xx from the API on a button → friendly message; the provider being down (503) is named', async () => {
    h = await startBotHarness();
    h.emu.injectCommand(chat, 'start');
    await h.emu.waitFor((c) => c.method === 'sendMessage');
    h.api.failNext('POST /api/v1/payments/create', 503);
    const since = h.mark();
    h.emu.injectCallback(chat, `pc:${h.api.tariffs[0].id}`);
    const screen = await h.screen(chat, since);
    assert.match(String(screen.params.text), /Платёжная система сейчас недоступна/);
    h.api.failNext('GET /api/v1/tariffs', 500);
    const again = h.mark();
    h.emu.injectCallback(chat, 't');
    assert.match(String((await h.next('sendMessage', chat, again)).params.text), /временно недоступен/);
  });

  it('a tariff for another location while an access runs (409 location_mismatch) is explained, not an error', async () => {
    h = await startBotHarness();
    h.emu.injectCommand(chat, 'start');
    await h.emu.waitFor((c) => c.method === 'sendMessage');
    h.api.failNext('POST /api/v1/payments/create', 409, {
      error: 'location_mismatch',
      message: 'the active subscription is in nl',
    });
    const since = h.mark();
    h.emu.injectCallback(chat, `pc:${h.api.tariffs[0].id}`);
    const screen = await h.screen(chat, since);
    assert.match(String(screen.params.text), /работает в другой локации/);
    assert.ok(!h.logs.some((l) => l.msg === 'update handling failed'), 'not treated as a failure');
  });

  it('bot.catch: a handler that throws gets logged and apologised for, and polling goes on', async () => {
    h = await startBotHarness();
    h.emu.failNext('sendMessage', { code: 500, chatId: chat }); // the /start reply itself blows up
    const since = h.mark();
    h.emu.injectCommand(chat, 'start');
    const apology = await h.next('sendMessage', chat, since);
    assert.match(String(apology.params.text), /Что-то пошло не так/);
    assert.ok(h.logs.some((l) => l.msg === 'update handling failed' && l.level === 50));
    // Still polling: the next update is served normally.
    const next = h.mark();
    h.emu.injectCommand(chat, 'start');
    const menu = await h.next('sendMessage', chat, next);
    assert.match(String(menu.params.text), /Привет/);
  });

  it('a user who blocked the bot is not messaged again from bot.catch', async () => {
    h = await startBotHarness();
    h.emu.blockUser(chat);
    const since = h.mark();
    h.emu.injectCommand(chat, 'start');
    await h.emu.waitFor((c, i) => i >= since && c.method === 'sendMessage' && c.error?.error_code === 403);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.emu.calls('sendMessage').filter((c) => Number(c.params.chat_id) === chat).length, 1);
  });

  it('a Stars payment whose confirmation fails at first is retried until the API accepts it', async () => {
    h = await startBotHarness();
    h.emu.injectCommand(chat, 'start');
    await h.emu.waitFor((c) => c.method === 'sendMessage');
    h.emu.injectCallback(chat, `ps:${h.api.tariffs[0].id}`);
    const invoice = await h.emu.waitFor((c) => c.method === 'sendInvoice');
    h.api.failNext('POST /api/v1/payments/stars/confirm', 502);
    const since = h.mark();
    h.emu.injectSuccessfulPayment({
      from: chat,
      payload: String(invoice.params.payload),
      total_amount: 100,
      telegram_payment_charge_id: 'c-9',
    });
    const thanks = await h.next('sendMessage', chat, since);
    assert.match(String(thanks.params.text), /Оплата получена!/);
    assert.equal(h.api.calls('POST /api/v1/payments/stars/confirm').length, 2);
  });
});
