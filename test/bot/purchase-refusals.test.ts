import assert from 'node:assert/strict';
import type { Update } from 'telegraf/types';
import { type BotHarness, startBotHarness } from './harness';

/** Issue 10: one Idempotency-Key per tap, and clear texts for the API's new refusals. */

describe('bot: payment create — idempotency key per tap and refusal messages', () => {
  let h: BotHarness;
  const chat = 9001;
  beforeEach(async () => {
    h = await startBotHarness();
    h.emu.injectCommand(chat, 'start');
    await h.emu.waitFor((c) => c.method === 'sendMessage');
  });
  afterEach(() => h.stop());

  const tapPay = async (lang?: string) => {
    const since = h.mark();
    if (lang) h.emu.injectCommand(chat, 'start', undefined, { language_code: lang });
    if (lang) await h.screen(chat, since);
    const after = h.mark();
    const id = h.emu.injectCallback(chat, `pc:${h.api.tariffs[0].id}`);
    return { id, screen: await h.screen(chat, after) };
  };

  it('sends one Idempotency-Key per tap, derived from the callback query id', async () => {
    const first = await tapPay();
    const second = await tapPay();
    const keys = h.api.calls('POST /api/v1/payments/create').map((c) => c.idempotencyKey);
    assert.deepEqual(keys, [`tg-tap-${first.id}`, `tg-tap-${second.id}`]);
  });

  it('Telegram redelivering the same tap reuses its key', async () => {
    const message = h.emu.messages(chat).at(-1);
    const tap = (updateId: number) =>
      ({
        update_id: updateId,
        callback_query: {
          id: 'redelivered-tap-1',
          from: { id: chat, is_bot: false, first_name: 'U' },
          chat_instance: String(chat),
          data: `pc:${h.api.tariffs[0].id}`,
          message,
        },
      }) as unknown as Update;
    await h.bot.enqueue(tap(900_001));
    await h.bot.enqueue(tap(900_001));
    const keys = h.api.calls('POST /api/v1/payments/create').map((c) => c.idempotencyKey);
    assert.deepEqual(keys, ['tg-tap-redelivered-tap-1', 'tg-tap-redelivered-tap-1']);
  });

  const cases: Array<[string, number, unknown, RegExp, RegExp]> = [
    [
      'purchase_limit',
      429,
      { error: 'purchase_limit' },
      /слишком много неоплаченных счетов/,
      /too many open payments/,
    ],
    ['rate_limited', 429, { error: 'rate_limited' }, /Слишком много запросов/, /Too many requests/],
    ['location_mismatch', 409, { error: 'location_mismatch' }, /другой локации/, /another location/],
    [
      'no_active_subscription',
      409,
      { error: 'no_active_subscription' },
      /Пакет трафика добавляется к действующей подписке/,
      /traffic pack adds traffic to an active subscription/,
    ],
    [
      'provider unavailable',
      503,
      { error: 'provider_unavailable' },
      /Платёжная система сейчас недоступна/,
      /payment system is unavailable/,
    ],
  ];
  for (const [name, status, body, ru, en] of cases) {
    it(`${status} ${name} → a clear message (ru and en), with a way back`, async () => {
      h.api.failNext('POST /api/v1/payments/create', status, body);
      const { screen } = await tapPay();
      assert.match(String(screen.params.text), ru);
      const keyboard = JSON.stringify(screen.params.reply_markup);
      assert.match(keyboard, /Назад/);
      h.api.failNext('POST /api/v1/payments/create', status, body);
      const english = await tapPay('en');
      assert.match(String(english.screen.params.text), en);
      assert.ok(!h.logs.some((l) => l.msg === 'update handling failed'), 'handled, not an error');
    });
  }

  it('traffic packs are listed below the plans as packs, and their screen offers no gift', async () => {
    h.api.tariffs.push({
      id: '77',
      slug: 'pack-10g',
      name: 'Pack',
      description: 'more traffic',
      price: '99.00',
      currency: 'RUB',
      duration_days: 0,
      star_price: 50,
      kind: 'traffic_pack',
      traffic_pack_bytes: 10 * 1024 ** 3,
    });
    const since = h.mark();
    h.emu.injectCallback(chat, 't');
    const catalog = await h.screen(chat, since);
    const rows = (catalog.params.reply_markup as { inline_keyboard: { text: string }[][] }).inline_keyboard;
    const texts = rows.map((r) => r[0].text);
    const packRow = texts.findIndex((t) => /Pack: \+10 ГБ на этот период — 99.00 RUB/.test(t));
    assert.ok(packRow > 0, `a pack row: ${texts.join(' | ')}`);
    assert.ok(
      texts.slice(0, packRow).every((t) => !/Pack/.test(t)),
      'plans come first',
    );
    const after = h.mark();
    h.emu.injectCallback(chat, 'tr:77');
    const screen = await h.screen(chat, after);
    assert.match(String(screen.params.text), /Pack: \+10 ГБ/);
    assert.doesNotMatch(JSON.stringify(screen.params.reply_markup), /🎁/);
  });

  it('a 429 on another call (the tariff list) says "too many requests", not "something went wrong"', async () => {
    h.api.failNext('GET /api/v1/tariffs', 429, { error: 'rate_limited' });
    const since = h.mark();
    h.emu.injectCallback(chat, 't');
    const reply = await h.next('sendMessage', chat, since);
    assert.match(String(reply.params.text), /Слишком много запросов/);
  });

  it('the Retry button of a failed payment shows the same refusals', async () => {
    const created = await tapPay();
    assert.match(String(created.screen.params.text), /Счёт на/);
    const paymentId = [...h.api.payments.keys()].at(-1)!;
    h.api.failNext(`POST /api/v1/payments/${paymentId}/retry`, 429, { error: 'purchase_limit' });
    const since = h.mark();
    h.emu.injectCallback(chat, `rt:${paymentId}`);
    const screen = await h.screen(chat, since);
    assert.match(String(screen.params.text), /слишком много неоплаченных счетов/);
  });
});
