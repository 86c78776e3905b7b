import assert from 'node:assert/strict';
import QRCode from 'qrcode';
import { MAX_CALLBACK_BYTES } from '../../infra/telegram/callbacks';
import { type BotHarness, startBotHarness } from './harness';

type Keyboard = { inline_keyboard: Array<Array<{ text: string; callback_data?: string; url?: string }>> };

describe('bot: subscription, guides, admin and every keyboard', () => {
  let h: BotHarness;
  const chat = 2002;
  const admin = 9009;

  beforeEach(async () => {
    h = await startBotHarness({ adminIds: [admin] });
  });
  afterEach(() => h.stop());

  async function command(chatId: number, name: string, args?: string, from?: { language_code?: string }) {
    const since = h.mark();
    h.emu.injectCommand(chatId, name, args, from);
    return h.screen(chatId, since);
  }

  async function tap(chatId: number, button: string | RegExp) {
    const since = h.mark();
    h.emu.tapButton(chatId, button);
    return h.screen(chatId, since);
  }

  it('My subscription, active: QR photo bytes from the API, the key, the subscription URL and Renew', async () => {
    await command(chat, 'start');
    const vless =
      'vless://0b5c7e1a-1111-4222-8333-444455556666@nl1.example.com:443?security=reality&sni=www.example.com#NL';
    const png = await QRCode.toBuffer(vless, { type: 'png' });
    const end = new Date(Date.now() + 12 * 86_400_000).toISOString();
    h.api.active.set(chat, {
      tariff_name: 'Месяц',
      end_date: end,
      vless_url: vless,
      subscription_url: 'https://vpn.example.com/sub/tok123',
      qr_png_base64: png.toString('base64'),
    });
    const since = h.mark();
    h.emu.tapButton(chat, '🔑 Моя подписка');
    const photo = await h.next('sendPhoto', chat, since);
    assert.ok(photo.photo?.equals(png), 'the QR PNG arrives byte for byte');
    const text = await h.next('sendMessage', chat, since);
    const body = String(text.params.text);
    assert.ok(body.includes(vless.replace(/&/g, '&amp;')), 'the key, HTML-escaped');
    assert.ok(body.includes('https://vpn.example.com/sub/tok123'));
    assert.match(body, /Осталось: 12 дней/);
    assert.match(JSON.stringify(text.params.reply_markup), /🔄 Продлить/);
    // Buttons under the key message open new messages: the key itself must stay in the chat.
    const renew = await tap(chat, '🔄 Продлить');
    assert.equal(renew.method, 'sendMessage');
    assert.match(String(renew.params.text), /продления/);
    const keyMessage = h.emu.messages(chat).find((msg) => msg.text?.includes(vless));
    assert.ok(keyMessage?.text?.includes(vless), 'the key message is untouched');
    assert.equal(
      h.emu.calls('editMessageText').filter((c) => String(c.params.text).includes('vless://')).length,
      0,
    );
  });

  it('My subscription shows the traffic used of the allowance, and says when it is used up', async () => {
    await command(chat, 'start', undefined, { language_code: 'en' });
    const vless = 'vless://0b5c7e1a-1111-4222-8333-444455556666@nl1.example.com:443?security=reality#NL';
    const png = await QRCode.toBuffer(vless, { type: 'png' });
    h.api.active.set(chat, {
      tariff_name: 'Month',
      end_date: new Date(Date.now() + 5 * 86_400_000).toISOString(),
      vless_url: vless,
      subscription_url: 'https://vpn.example.com/sub/tok123',
      qr_png_base64: png.toString('base64'),
      traffic_used_bytes: 1.5 * 1024 ** 3,
      traffic_limit_bytes: 50 * 1024 ** 3,
      suspended: true,
    });
    const since = h.mark();
    h.emu.tapButton(chat, /My subscription/);
    await h.next('sendPhoto', chat, since);
    const body = String((await h.next('sendMessage', chat, since)).params.text);
    assert.match(body, /Traffic: 1\.5 GB of 50 GB/);
    assert.match(body, /Used up: access is paused/);
  });

  it('My subscription, not active: last payment status and a Buy button (English user)', async () => {
    await command(chat, 'start', undefined, { language_code: 'en-US' });
    h.api.payments.set('p-1', {
      payment_id: 'p-1',
      telegram_id: chat,
      tariff_id: h.api.tariffs[0].id,
      provider: 'yookassa',
      payment_status: 'canceled',
      amount: '199.00',
      currency: 'RUB',
      created_at: new Date().toISOString(),
      expires_at: new Date().toISOString(),
    });
    const screen = await tap(chat, '🔑 My subscription');
    assert.match(String(screen.params.text), /no active subscription[\s\S]*Last payment: cancelled/);
    const plans = await tap(chat, '🛒 Buy a subscription');
    assert.equal(plans.params.text, 'Choose a plan:');
  });

  it('setup guides name real apps for each OS, with download links', async () => {
    await command(chat, 'start');
    await tap(chat, '📲 Как подключиться');
    const expected: Record<string, RegExp> = {
      '🍏 iPhone / iPad': /Streisand[\s\S]*Hiddify[\s\S]*V2Box/,
      '🤖 Android': /v2rayNG[\s\S]*Hiddify/,
      '🪟 Windows': /v2rayN[\s\S]*Hiddify/,
      '💻 macOS': /Hiddify[\s\S]*V2Box/,
      '🐧 Linux': /Hiddify[\s\S]*NekoRay/,
    };
    for (const [os, apps] of Object.entries(expected)) {
      const guide = await tap(chat, os);
      assert.match(String(guide.params.text), apps);
      await tap(chat, '⬅️ Назад');
    }
  });

  it('/help explains the bot and links support', async () => {
    const help = await command(chat, 'help');
    assert.match(String(help.params.text), /\/start/);
    assert.match(JSON.stringify(help.params.reply_markup), /t\.me\/vpn_support_test/);
  });

  it('/admin: stats, stuck purchases, nodes (no secrets) and user lookup for admins only', async () => {
    await command(chat, 'start'); // a user to find and count
    await command(admin, 'admin');
    const stats = await tap(admin, '📊 Статистика');
    assert.match(String(stats.params.text), /Пользователи: <b>1<\/b>/);
    assert.match(String(stats.params.text), /Конверсия/);
    const stuck = await tap(admin, '⏳ Зависшие покупки');
    assert.match(String(stuck.params.text), /Зависших покупок нет|purchase-/);
    assert.match(h.api.calls().at(-1)!.path, /older_than=15m/);
    assert.equal(h.api.calls().at(-1)!.authorization, `Bearer ${h.api.adminToken}`);
    const nodes = await tap(admin, '🖥 Ноды');
    assert.match(String(nodes.params.text), /ams-1/);
    assert.doesNotMatch(String(nodes.params.text), /must-not-show/);
    const found = await command(admin, 'user', String(chat));
    assert.match(String(found.params.text), new RegExp(`telegram_id: <b>${chat}</b>`));

    // A non-admin gets nothing at all, not even a hint that /admin exists; their /help right after is answered.
    const adminCalls = () => h.api.calls().filter((c) => c.path.startsWith('/api/v1/admin/')).length;
    const before = adminCalls();
    const since = h.mark();
    h.emu.injectCommand(chat, 'admin');
    h.emu.injectCommand(chat, 'help');
    h.emu.injectCallback(chat, 'a:s'); // a forged admin button
    const reply = await h.screen(chat, since);
    assert.match(String(reply.params.text), /Как пользоваться ботом/);
    await h.emu.waitFor((c, i) => i >= since && c.method === 'answerCallbackQuery');
    const toUser = h.emu
      .calls()
      .slice(since)
      .filter((c) => Number(c.params.chat_id) === chat && c.method !== 'answerCallbackQuery');
    assert.equal(toUser.length, 1, 'only the /help reply');
    assert.equal(adminCalls(), before);
  });

  it('every callback_data in every keyboard the bot sent fits in 64 bytes', async () => {
    await command(chat, 'start');
    for (const path of [
      ['💳 Тарифы', /^Месяц/, '⭐ Telegram Stars (100)'],
      ['💳 Тарифы', /^Месяц/, '💳 Картой (ЮKassa)'],
      ['🔑 Моя подписка'],
      ['📲 Как подключиться', '🐧 Linux', '🔑 Моя подписка'],
    ]) {
      await command(chat, 'menu');
      for (const button of path) {
        const since = h.mark();
        h.emu.tapButton(chat, button);
        await h.emu.waitFor(
          (c, i) => i >= since && /^(send|edit)/.test(c.method) && Number(c.params.chat_id) === chat,
        );
      }
    }
    await command(admin, 'admin');
    const keyboards = h.emu
      .calls()
      .filter((c) => c.params.reply_markup)
      .map((c) => c.params.reply_markup as Keyboard);
    const data = keyboards
      .flatMap((k) => k.inline_keyboard.flat())
      .flatMap((b) => (b.callback_data ? [b.callback_data] : []));
    assert.ok(data.length >= 20, `checked ${data.length} buttons`);
    for (const d of data) assert.ok(Buffer.byteLength(d) <= MAX_CALLBACK_BYTES, `${d} is too long`);
    assert.ok(!h.emu.calls().some((c) => c.error?.description.includes('BUTTON_DATA_INVALID')));
  });
});
