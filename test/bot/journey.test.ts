import assert from 'node:assert/strict';
import { type BotHarness, SUPPORT_URL, startBotHarness } from './harness';

// The bot, for real (telegraf long polling), against the Bot API emulator and the contract-shaped fake API.
describe('bot: from /start to a payment', () => {
  let h: BotHarness;
  const chat = 1001;

  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.stop());

  async function start(payload?: string) {
    const since = h.mark();
    h.emu.injectCommand(chat, 'start', payload, { first_name: 'Аня', language_code: 'ru' });
    return h.next('sendMessage', chat, since);
  }

  async function tap(button: string | RegExp) {
    const since = h.mark();
    const tapped = h.emu.tapButton(chat, button);
    assert.ok(tapped.callbackId, `"${button}" is a callback button`);
    return h.screen(chat, since);
  }

  it('/start registers the user with the referral payload and shows the main menu (with the referral screen)', async () => {
    const menu = await start('ref_42');
    const [register] = h.api.calls('POST /api/v1/users/register');
    assert.deepEqual(register.body, {
      telegram_id: chat,
      first_name: 'Аня',
      language_code: 'ru',
      referral: 'ref_42',
      start_payload: 'ref_42',
    });
    assert.equal(register.authorization, `Bearer ${h.api.apiToken}`);
    assert.match(String(menu.params.text), /Аня/);
    const buttons = (
      menu.params.reply_markup as { inline_keyboard: Array<Array<Record<string, string>>> }
    ).inline_keyboard.flat();
    assert.deepEqual(
      buttons.map((b) => b.text),
      [
        '💳 Тарифы',
        '🔑 Моя подписка',
        '💰 Баланс',
        '🎁 Пригласить друга',
        '📲 Как подключиться',
        '💬 Поддержка',
      ],
    );
    assert.equal(buttons[5].url, SUPPORT_URL);
  });

  it('reaches the YooKassa payment page in at most 5 taps from /start', async () => {
    await start();
    let taps = 0;
    await tap('💳 Тарифы');
    taps++;
    await tap(/^Месяц · 30 дней · 199 ₽$/);
    taps++;
    const payScreen = await tap('💳 Картой (ЮKassa)');
    taps++;
    const payment = [...h.api.payments.values()][0];
    assert.deepEqual(h.api.calls('POST /api/v1/payments/create')[0].body, {
      telegram_id: chat,
      tariff_id: h.api.tariffs[0].id,
      provider: 'yookassa',
    });
    assert.match(String(payScreen.params.text), /199 ₽/);
    const link = h.emu.tapButton(chat, '➡️ Перейти к оплате');
    taps++; // the URL button opens the payment page itself
    assert.equal(link.url, `${h.api.url}/checkout/${payment.payment_id}`);
    assert.ok(taps <= 5, `${taps} taps`);
  });

  it('sells for Telegram Stars: an XTR invoice with one price, pre-checkout checked, payment forwarded', async () => {
    await start();
    await tap('💳 Тарифы');
    await tap(/^Месяц/);
    const since = h.mark();
    h.emu.tapButton(chat, '⭐ Telegram Stars (100)');
    const invoice = await h.next('sendInvoice', chat, since);
    const payment = [...h.api.payments.values()][0];
    assert.equal(payment.provider, 'stars');
    assert.equal(invoice.params.currency, 'XTR');
    assert.equal(invoice.params.provider_token, '');
    assert.equal(invoice.params.payload, payment.payment_id);
    assert.deepEqual(invoice.params.prices, [{ label: 'Месяц', amount: 100 }]);

    // Pending payment, right amount → ok.
    const okId = h.emu.injectPreCheckout({
      from: chat,
      payload: payment.payment_id,
      total_amount: 100,
      currency: 'XTR',
    });
    const ok = await h.emu.waitFor(
      (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === okId,
    );
    assert.equal(ok.params.ok, true);
    assert.ok(!ok.error, 'answered within Telegram’s 10 s');

    // Unknown payload → refused with a reason the user can read.
    const badId = h.emu.injectPreCheckout({ from: chat, payload: 'no-such-payment', total_amount: 100 });
    const bad = await h.emu.waitFor(
      (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === badId,
    );
    assert.equal(bad.params.ok, false);
    assert.match(String(bad.params.error_message), /уже оплачен или устарел/);

    // Telegram charged the user: the bot forwards it to the API, exactly as the contract says.
    const paidSince = h.mark();
    h.emu.injectSuccessfulPayment({
      from: chat,
      payload: payment.payment_id,
      total_amount: 100,
      telegram_payment_charge_id: 'tg-charge-1',
    });
    const thanks = await h.next('sendMessage', chat, paidSince);
    assert.deepEqual(h.api.calls('POST /api/v1/payments/stars/confirm')[0].body, {
      telegram_id: chat,
      payload: payment.payment_id,
      telegram_payment_charge_id: 'tg-charge-1',
      total_amount: 100,
    });
    assert.equal(payment.payment_status, 'succeeded');
    assert.match(String(thanks.params.text), /Оплата получена/);

    // Now paid: a second pre-checkout for the same invoice is refused.
    const lateId = h.emu.injectPreCheckout({ from: chat, payload: payment.payment_id, total_amount: 100 });
    const late = await h.emu.waitFor(
      (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === lateId,
    );
    assert.equal(late.params.ok, false);
  });

  it('offers no Stars button for a tariff without star_price', async () => {
    await start();
    await tap('💳 Тарифы');
    const methods = await tap(/^3 месяца/);
    const texts = JSON.stringify(methods.params.reply_markup);
    assert.match(texts, /Картой/);
    assert.doesNotMatch(texts, /Stars/);
  });

  it('Retry on a failed payment creates a new pending payment and shows its page', async () => {
    await start();
    const old = await fetch(`${h.api.url}/api/v1/payments/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.api.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ telegram_id: chat, tariff_id: h.api.tariffs[0].id, provider: 'yookassa' }),
    }).then((r) => r.json() as Promise<{ payment_id: string }>);
    h.api.payments.get(old.payment_id)!.payment_status = 'canceled';
    const since = h.mark();
    h.emu.injectCallback(chat, `rt:${old.payment_id}`);
    const screen = await h.screen(chat, since);
    assert.equal(h.api.calls(`POST /api/v1/payments/${old.payment_id}/retry`).length, 1);
    const fresh = [...h.api.payments.values()].at(-1)!;
    assert.notEqual(fresh.payment_id, old.payment_id);
    assert.match(JSON.stringify(screen.params.reply_markup), new RegExp(`/checkout/${fresh.payment_id}`));
  });
});
