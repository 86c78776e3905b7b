import assert from 'node:assert/strict';
import { FloodControl, isMoneyUpdate } from '../../bot/flood-control';
import { startBotHarness } from './harness';

describe('bot: flood control', () => {
  it('passes `limit` updates a second, warns once, drops silently until the cooldown is over', () => {
    let now = 1_000_000;
    const flood = new FloodControl({ limit: 3, cooldownMs: 10_000, now: () => now });
    assert.deepEqual(
      [1, 2, 3].map(() => flood.check(1)),
      ['pass', 'pass', 'pass'],
    );
    assert.equal(flood.check(1), 'warn');
    assert.equal(flood.check(2), 'pass', 'other users are not affected');
    now += 5_000;
    assert.equal(flood.check(1), 'drop');
    now += 5_000;
    assert.equal(flood.check(1), 'pass', 'the cooldown is over');
    // Spread out, the same number of updates is no flood.
    now += 60_000;
    for (let i = 0; i < 20; i++) {
      now += 400;
      assert.equal(flood.check(3), 'pass');
    }
  });

  it('limit 0 switches it off', () => {
    const flood = new FloodControl({ limit: 0, cooldownMs: 10_000 });
    for (let i = 0; i < 100; i++) assert.equal(flood.check(1), 'pass');
  });

  it('forgets quiet users, so memory follows the active users only', () => {
    let now = 0;
    const flood = new FloodControl({ limit: 5, cooldownMs: 1000, now: () => now });
    for (let id = 0; id < 999; id++) flood.check(id);
    now += 5000;
    flood.check(5000); // the 1000th check sweeps
    assert.equal(flood.tracked, 1);
  });

  it('treats pre_checkout_query and successful_payment as money updates', () => {
    assert.equal(isMoneyUpdate({ update_id: 1, pre_checkout_query: {} }), true);
    assert.equal(isMoneyUpdate({ update_id: 1, message: { successful_payment: {} } }), true);
    assert.equal(isMoneyUpdate({ update_id: 1, message: { text: '/start' } }), false);
    assert.equal(isMoneyUpdate({ update_id: 1, callback_query: {} }), false);
  });

  it('in the bot: a flood gets one "slow down", then silence; payments and other users still go through', async () => {
    const h = await startBotHarness({ flood: { limit: 3, cooldownMs: 60_000 } });
    const flooder = 8001;
    const other = 8002;
    try {
      // The flooder has a Stars invoice open from before the flood.
      h.emu.injectCommand(flooder, 'start');
      await h.emu.waitFor((c) => c.method === 'sendMessage');
      h.emu.injectCallback(flooder, `ps:${h.api.tariffs[0].id}`);
      const invoice = await h.emu.waitFor((c) => c.method === 'sendInvoice');
      const since = h.mark();
      for (let i = 0; i < 12; i++) h.emu.injectCommand(flooder, 'start');
      const slowDown = await h.emu.waitFor(
        (c, i) =>
          i >= since && c.method === 'sendMessage' && /Слишком много сообщений/.test(String(c.params.text)),
      );
      assert.equal(Number(slowDown.params.chat_id), flooder);

      // During the cooldown: money updates from the flooder are still handled.
      const queryId = h.emu.injectPreCheckout({
        from: flooder,
        payload: String(invoice.params.payload),
        total_amount: 100,
      });
      const answer = await h.emu.waitFor(
        (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === queryId,
      );
      assert.equal(answer.params.ok, true);
      h.emu.injectSuccessfulPayment({
        from: flooder,
        payload: String(invoice.params.payload),
        total_amount: 100,
        telegram_payment_charge_id: 'flood-charge-1',
      });
      await h.emu.waitFor(
        (c, i) => i >= since && c.method === 'sendMessage' && /Оплата получена/.test(String(c.params.text)),
      );
      assert.equal(h.api.payments.get(String(invoice.params.payload))?.payment_status, 'succeeded');

      // Someone else is served normally; the flooder's next message is dropped without a word.
      h.emu.injectCommand(flooder, 'start');
      h.emu.injectCommand(other, 'start');
      const menu = await h.next('sendMessage', other, since);
      assert.match(String(menu.params.text), /Привет/);
      const toFlooder = h.emu
        .calls()
        .slice(since)
        .filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === flooder && !c.error);
      const menus = toFlooder.filter((c) => /Привет/.test(String(c.params.text)));
      const warnings = toFlooder.filter((c) => /Слишком много сообщений/.test(String(c.params.text)));
      assert.equal(warnings.length, 1, 'one slow-down answer');
      assert.ok(menus.length <= 3, `at most the limit was served, got ${menus.length}`);
      assert.ok(h.logs.some((l) => l.msg === 'flood control: user slowed down' && l.telegramId === flooder));

      // Button taps: the slow-down is the tapped button's answer (a toast), also only once.
      const tapper = 8003;
      h.emu.injectCommand(tapper, 'start');
      await h.next('sendMessage', tapper, since);
      const ids = Array.from({ length: 8 }, () => h.emu.injectCallback(tapper, 'g'));
      const toast = await h.emu.waitFor(
        (c) =>
          c.method === 'answerCallbackQuery' &&
          /Too many|Слишком много сообщений/.test(String(c.params.text)),
      );
      assert.ok(ids.includes(String(toast.params.callback_query_id)));
      const later = h.mark();
      h.emu.injectCommand(other, 'start');
      await h.next('sendMessage', other, later);
      const toasts = h.emu
        .calls('answerCallbackQuery')
        .filter((c) => /Слишком много сообщений/.test(String(c.params.text)));
      assert.equal(toasts.length, 1);
    } finally {
      await h.stop();
    }
  });
});
