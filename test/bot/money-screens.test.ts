import assert from 'node:assert/strict';
import { parseRefundReply } from '../../bot/handlers/admin-refund';
import { parseTopUpAmount } from '../../bot/handlers/balance';
import { t } from '../../infra/i18n';
import {
  type CallbackAction,
  decodeCallback,
  encodeCallback,
  MAX_CALLBACK_BYTES,
} from '../../infra/telegram/callbacks';
import { type BotHarness, startBotHarness } from './harness';

type Keyboard = { inline_keyboard: Array<Array<{ text: string; callback_data?: string }>> };
const keyboardOf = (call: { params: Record<string, unknown> }) =>
  (call.params.reply_markup as Keyboard | undefined)?.inline_keyboard.flat() ?? [];

describe('bot: balance, top-up, cancel and admin refund keyboards', () => {
  const uuid = 'ffffffff-ffff-4fff-bfff-ffffffffffff';
  const longestTg = '99999999999999999999'; // 20 digits, the decoder's bound

  it('every new button encodes, fits in 64 bytes (the longest ids too) and decodes back to itself', () => {
    const actions: CallbackAction[] = [
      { type: 'balance' },
      { type: 'balance', keep: true },
      { type: 'topUp', amount: 500 },
      { type: 'topUp', amount: 100_000, method: 'stars' },
      { type: 'topUpOther' },
      { type: 'payBalance', tariffId: '4294967295' },
      { type: 'cancelAsk', keep: true },
      { type: 'cancelDo', refund: true },
      { type: 'cancelDo', refund: false },
      { type: 'adminUser', op: 'refund', telegramId: longestTg },
      { type: 'refundPick', telegramId: longestTg, paymentId: uuid },
      { type: 'refundTo', telegramId: longestTg, paymentId: uuid, to: 'balance' },
      { type: 'refundYes', telegramId: longestTg, paymentId: uuid, to: 'provider', cents: 9_999_999_999 },
    ];
    for (const action of actions) {
      const data = encodeCallback(action);
      assert.ok(Buffer.byteLength(data) <= MAX_CALLBACK_BYTES, `${data} fits`);
      assert.deepEqual(decodeCallback(data), action, data);
    }
  });

  it('forged or damaged refund buttons decode to nothing', () => {
    const good = encodeCallback({
      type: 'refundYes',
      telegramId: '952000001',
      paymentId: uuid,
      to: 'provider',
      cents: 5000,
    });
    for (const bad of [
      good.replace(':5000', ':0'),
      good.replace(':5000', ':-5'),
      good.replace('ry:p:', 'ry:x:'),
      good.slice(0, -8),
      'rk:952000001:not-a-uuid-at-all-xxxxx',
      'rd:b:952000001',
      'tu:1234567',
      'tu:100:x',
      'tu:s',
      'cd:2',
    ])
      assert.equal(decodeCallback(bad), null, bad);
  });

  it('typed amounts: top-up "250", "99,50 ₽" accepted; "5", "lots", "1e3" refused with the reason', () => {
    const m = t('en');
    assert.deepEqual(parseTopUpAmount('250', m), { amount: '250.00' });
    assert.deepEqual(parseTopUpAmount(' 99,50 ₽', m), { amount: '99.50' });
    assert.deepEqual(parseTopUpAmount('100 000', m), { amount: '100000.00' });
    assert.match((parseTopUpAmount('5', m) as { refusal: string }).refusal, /from 10 ₽/);
    assert.match((parseTopUpAmount('lots', m) as { refusal: string }).refusal, /not an amount/);
    assert.match((parseTopUpAmount('1e3', m) as { refusal: string }).refusal, /not an amount/);
    // An admin's refund reply: an amount first means partial; otherwise all of it is the reason.
    assert.deepEqual(parseRefundReply('50 double charge'), { amount: 5000, reason: 'double charge' });
    assert.deepEqual(parseRefundReply('12,5 typo'), { amount: 1250, reason: 'typo' });
    assert.deepEqual(parseRefundReply('double charge'), { reason: 'double charge' });
    assert.deepEqual(parseRefundReply('50'), { amount: 5000, reason: '' });
  });

  describe('in the bot (fake API)', () => {
    let h: BotHarness;
    const chat = 952_999_001;
    const admin = 952_999_009;
    beforeEach(async () => {
      h = await startBotHarness({ adminIds: [admin] });
    });
    afterEach(() => h.stop());

    it('the main menu has 💰 Баланс; the balance screen offers 100/300/500 and another amount (force reply)', async () => {
      let since = h.mark();
      h.emu.injectCommand(chat, 'start');
      const menu = await h.screen(chat, since);
      assert.ok(keyboardOf(menu).some((b) => b.text === '💰 Баланс'));
      since = h.mark();
      h.emu.tapButton(chat, '💰 Баланс');
      const screen = await h.screen(chat, since);
      assert.match(String(screen.params.text), /Баланс: 0 ₽[\s\S]*Операций пока нет/);
      assert.deepEqual(
        keyboardOf(screen)
          .map((b) => b.text)
          .slice(0, 4),
        ['+ 100 ₽', '+ 300 ₽', '+ 500 ₽', '✏️ Другая сумма'],
      );
      since = h.mark();
      h.emu.tapButton(chat, '✏️ Другая сумма');
      const prompt = await h.next('sendMessage', chat, since);
      assert.match(JSON.stringify(prompt.params.reply_markup), /"force_reply":true/);
      // A reply below the minimum is explained in Russian, and no payment is asked of the API.
      const creates = () => h.api.calls().filter((c) => c.path === '/api/v1/payments/create').length;
      since = h.mark();
      h.emu.injectReply(chat, '5');
      const refusal = await h.next('sendMessage', chat, since);
      assert.match(String(refusal.params.text), /от 10 ₽/);
      assert.equal(creates(), 0);
    });

    it('My subscription (active) carries 💰 Баланс and ✖️ Отменить подписку; both open new messages under the key', async () => {
      let since = h.mark();
      h.emu.injectCommand(chat, 'start');
      await h.screen(chat, since);
      h.api.active.set(chat, {
        tariff_name: 'Месяц',
        end_date: new Date(Date.now() + 5 * 86_400_000).toISOString(),
        vless_url: 'vless://0b5c7e1a-1111-4222-8333-444455556666@nl1.example.com:443?security=reality#NL',
        subscription_url: 'https://vpn.example.com/sub/tok123',
        qr_png_base64: Buffer.from('png').toString('base64'),
      });
      since = h.mark();
      h.emu.tapButton(chat, '🔑 Моя подписка');
      await h.next('sendPhoto', chat, since);
      const key = await h.next('sendMessage', chat, since);
      const buttons = keyboardOf(key);
      const balance = buttons.find((b) => b.text === '💰 Баланс');
      const cancel = buttons.find((b) => b.text === '✖️ Отменить подписку');
      assert.deepEqual(
        [balance?.callback_data, cancel?.callback_data],
        ['+bl', '+cx'],
        'keep: the key message stays in the chat',
      );
    });

    it('a non-admin tapping forged refund buttons gets nothing and reaches no admin route', async () => {
      const started = h.mark();
      h.emu.injectCommand(chat, 'start');
      await h.screen(chat, started);
      const adminCalls = () => h.api.calls().filter((c) => c.path.startsWith('/api/v1/admin/')).length;
      const since = h.mark();
      for (const action of [
        { type: 'adminUser', op: 'refund', telegramId: String(chat) },
        { type: 'refundPick', telegramId: String(chat), paymentId: uuid },
        { type: 'refundYes', telegramId: String(chat), paymentId: uuid, to: 'provider', cents: 100 },
      ] as CallbackAction[])
        h.emu.injectCallback(chat, encodeCallback(action));
      await h.emu.waitFor(
        (_c, i) =>
          h.emu
            .calls()
            .slice(since)
            .filter((c) => c.method === 'answerCallbackQuery').length >= 3 && i >= since,
      );
      assert.equal(adminCalls(), 0);
      const shown = h.emu
        .calls()
        .slice(since)
        .filter((c) => Number(c.params.chat_id) === chat && /^(send|edit)/.test(c.method));
      assert.equal(shown.length, 0, 'no screen for a forged admin button');
    });
  });
});
