import assert from 'node:assert/strict';
import { checkMoney } from '../../scripts/bench/money';
import { ADMIN_TOKEN } from '../api/harness';
import { buttonsOf, Journey, textOf, until } from '../support/journey';

const BOT_ADMIN_TOKEN = 'journey-botmoney-admin-token-0123456789';

// Money through the bot (issues 13 and 16), on the whole stack: a card top-up then a purchase from the
// balance; cancel within REFUND_WINDOW (refund at YooKassa, key off the node) and after it (auto-renew off,
// access kept); an operator's partial refund from the admin card (YooKassa, audit row, money invariant).
describe('journey: balance, top-up, pay from balance, cancel and the admin refund in the bot', function () {
  this.timeout(240_000);
  // Telegram ids 952_000_000–952_999_999 belong to this file.
  const base = 952_000_000 + Math.floor(Math.random() * 90_000) * 10;
  const SAVER = base + 1;
  const QUITTER = base + 2;
  const LATE = base + 3;
  const STAR_SAVER = base + 4;
  const ADMIN = base + 9;
  const j = new Journey({
    adminIds: [ADMIN],
    adminBotToken: BOT_ADMIN_TOKEN,
    apiEnv: {
      ADMIN_TOKENS: `bot:${BOT_ADMIN_TOKEN}`,
      REFUND_WINDOW: '3d',
      REFUND_POLICY: 'prorated',
      TOPUP_STAR_RATE: '1.5',
    },
  });
  let tariffId = '';

  const lastPayment = async (tg: number) =>
    (
      await j.sql(
        `select p.* from payments p join users u on u.id = p.user_id where u.telegram_id = ? order by p.created_at desc limit 1`,
        [tg],
      )
    )[0];
  const activeSub = async (tg: number) =>
    (
      await j.sql(
        `select s.* from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ? order by s.created_at desc limit 1`,
        [tg],
      )
    )[0];
  const refundsAtShop = (providerPaymentId: string) =>
    j.sys.yookassa.refunds().filter((r) => r.payment_id === providerPaymentId);

  /** A card purchase of the Hour plan through the bot, up to the key. */
  async function buyByCard(tg: number, name: string) {
    const u = j.user(tg, { first_name: name });
    await u.start();
    const url = await u.chooseCard(/^Hour · /);
    const since = j.mark();
    await j.payOnPage(url);
    await u.waitMessage(/Your subscription is active until/, since, 30_000);
    return u;
  }

  before(async () => {
    await j.start();
    const t = await j.createTariff({
      slug: 'bm-hour',
      name: 'Hour',
      price: '149.00',
      duration: 'PT1H',
      display_order: -30,
    });
    tariffId = String(t.id);
  });
  after(async () => {
    await j.stop();
  });

  it('Balance → + 300 ₽ → card → the balance shows it; the plan is paid from the balance; then "insufficient, top up?"', async () => {
    const u = j.user(SAVER, { first_name: 'Sasha' });
    await u.start();
    const empty = textOf(await u.tap('💰 Balance', { text: /Balance: 0 ₽/ }));
    assert.match(empty, /No entries yet/);
    const link = await u.tap('+ 300 ₽', { text: /Top-up of 300 ₽/ });
    assert.ok(buttonsOf(link).some((b) => b.url));
    const since = j.mark();
    await j.payOnPage(u.openUrl('➡️ Go to payment'));
    await u.waitMessage(/Your balance was topped up by 300 ₽. It is now 300 ₽/, since, 30_000);
    const topUp = await lastPayment(SAVER);
    assert.deepEqual([topUp.purpose, topUp.amount, topUp.status], ['topup', '300.00', 'succeeded']);

    await u.waitMessage(/./, await u.command('menu'));
    const shown = textOf(await u.tap('💰 Balance', { text: /Balance: 300 ₽/ }));
    assert.match(shown, /\+300 ₽ · top-up/);

    // The tariff screen offers the balance because it covers the price; one tap pays and provisions.
    await u.tap('💳 Plans', { text: /Choose a plan/ });
    await u.tap(/^Hour · /, { text: /How would you like to pay/ });
    const paySince = j.mark();
    await u.tap('💰 From balance (300 ₽)', { text: /Paid from your balance/ });
    await u.waitMessage(/Your subscription is active until/, paySince, 30_000);
    const paid = await lastPayment(SAVER);
    assert.deepEqual([paid.provider, paid.amount, paid.status], ['balance', '149.00', 'succeeded']);
    const balance = (await j.api.call('GET', `/api/v1/users/${SAVER}/balance`)).body;
    assert.equal(balance.balance, '151.00');
    assert.deepEqual(
      balance.entries.map((e: { amount: string; reason: string }) => [e.reason, e.amount]),
      [
        ['purchase', '-149.00'],
        ['topup', '300.00'],
      ],
    );
    // Only the top-up ever reached YooKassa.
    const atShop = j.sys.yookassa.payments().filter((p) => p.id === topUp.provider_payment_id);
    assert.equal(atShop.length, 1);

    // 151 ₽ covers one more hour; after it, 2 ₽ does not: no balance button, and a stale one gets the refusal.
    await u.waitMessage(/./, await u.command('menu'));
    await u.tap('💳 Plans', { text: /Choose a plan/ });
    await u.tap(/^Hour · /, { text: /How would you like to pay/ });
    await u.tap('💰 From balance (151 ₽)', { text: /Paid from your balance/ });
    await u.waitMessage(/./, await u.command('menu'));
    await u.tap('💳 Plans', { text: /Choose a plan/ });
    const screen = await u.tap(/^Hour · /, { text: /How would you like to pay/ });
    assert.ok(!buttonsOf(screen).some((b) => /From balance/.test(b.text)), 'no balance button at 2 ₽');
    const stale = j.mark();
    j.emu.injectCallback(SAVER, `pb:${tariffId}`);
    const refusal = await j.next(SAVER, stale, { text: /insufficient balance/ });
    assert.match(textOf(refusal), /Your balance is 2 ₽ and this plan costs 149 ₽/);
    assert.ok(
      buttonsOf(refusal).some((b) => b.text === '+ 100 ₽'),
      'top-up offered at once',
    );
    assert.equal((await j.api.call('GET', `/api/v1/users/${SAVER}/balance`)).body.balance, '2.00');
  });

  it('Balance → ⭐ + 100 ₽ → a Stars invoice of 67 ⭐ (1.5 ₽ per Star, rounded up) → paid → +100 ₽ on the balance', async () => {
    const u = j.user(STAR_SAVER, { first_name: 'Stella' });
    await u.start();
    const screen = await u.tap('💰 Balance', { text: /Balance: 0 ₽/ });
    assert.match(textOf(screen), /with Telegram Stars/);
    const invoice = await u.tap('⭐ + 100 ₽', { method: 'sendInvoice' });
    assert.deepEqual(
      [invoice.params.currency, invoice.params.provider_token, invoice.params.title],
      ['XTR', '', 'Balance + 100 ₽'],
    );
    assert.deepEqual(invoice.params.prices, [{ label: 'Balance + 100 ₽', amount: 67 }]);
    const paymentId = String(invoice.params.payload);
    const queryId = j.emu.injectPreCheckout({ from: u.id, payload: paymentId, total_amount: 67 });
    const answer = await j.emu.waitFor(
      (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === queryId,
      10_000,
    );
    assert.equal(answer.params.ok, true);
    const since = j.mark();
    j.emu.injectSuccessfulPayment({
      from: u.id,
      payload: paymentId,
      total_amount: 67,
      telegram_payment_charge_id: `stars-topup-${paymentId.slice(0, 8)}`,
    });
    await u.waitMessage(/Your balance was topped up by 100 ₽. It is now 100 ₽/, since, 30_000);
    const p = await lastPayment(STAR_SAVER);
    assert.deepEqual(
      [p.purpose, p.provider, String(p.amount), p.currency, String(p.credit_amount), p.status],
      ['topup', 'stars', '67.00', 'XTR', '100.00', 'succeeded'],
    );
  });

  it('"Other amount": a typed amount is checked (too small, not a number), then gets its card link', async () => {
    const u = j.user(SAVER, { first_name: 'Sasha' });
    await u.waitMessage(/./, await u.command('balance'));
    const prompt = await u.tap('✏️ Other amount', { text: /Type the top-up amount/ });
    assert.match(JSON.stringify(prompt.params.reply_markup), /force_reply/);
    let since = j.mark();
    j.emu.injectReply(SAVER, '5');
    await u.waitMessage(/A top-up is from 10 ₽ to 100000 ₽|A top-up is from 10 ₽ to 100 000 ₽/, since);
    await u.tap('✏️ Other amount', { text: /Type the top-up amount/ });
    since = j.mark();
    j.emu.injectReply(SAVER, 'lots');
    await u.waitMessage(/That is not an amount/, since);
    await u.tap('✏️ Other amount', { text: /Type the top-up amount/ });
    since = j.mark();
    j.emu.injectReply(SAVER, '250,50');
    await u.waitMessage(/Top-up of 250.50 ₽/, since, 30_000);
    const p = await lastPayment(SAVER);
    assert.deepEqual([p.purpose, p.amount, p.status], ['topup', '250.50', 'pending']);
  });

  it('cancel within REFUND_WINDOW: the confirm screen names the refund; it reaches YooKassa and the key leaves the node', async () => {
    const u = await buyByCard(QUITTER, 'Quinn');
    const paid = await lastPayment(QUITTER);
    const sub = await activeSub(QUITTER);
    assert.ok((await j.nodeClients()).includes(sub.client_email), 'the key is on the node');

    await u.waitMessage(/./, await u.command('menu'));
    await u.tap('🔑 My subscription', { text: /Auto-renew/ });
    const confirm = textOf(await u.tap('✖️ Cancel subscription', { text: /Cancel subscription/ }));
    const promised = /You get back <b>([\d.]+) ₽<\/b> for the unused time, the way you paid/.exec(
      confirm,
    )?.[1];
    assert.ok(promised && Number(promised) > 140 && Number(promised) <= 149, confirm);
    const done = textOf(await u.tap('✅ Cancel and refund', { text: /Subscription cancelled/ }));
    const refunded = /Refunded: <b>([\d.]+) ₽<\/b>/.exec(done)?.[1];
    assert.ok(refunded && Number(refunded) <= Number(promised), done);

    const atShop = refundsAtShop(paid.provider_payment_id);
    assert.equal(atShop.length, 1, 'one refund at YooKassa');
    assert.equal(Number(atShop[0]?.amount.value), Number(refunded), 'of exactly what the bot said');
    await until(
      async () => !(await j.nodeClients()).includes(sub.client_email),
      'the client to leave the node',
      30_000,
    );
    const [row] = await j.sql(`select status from subscriptions where id = ?`, [sub.id]);
    assert.notEqual(row.status, 'active');
    // The same screen again: nothing left to cancel, nothing refunded twice.
    await u.waitMessage(/./, await u.command('menu'));
    await u.tap('🔑 My subscription', { text: /subscription/i });
    assert.equal(refundsAtShop(paid.provider_payment_id).length, 1);
  });

  it('cancel after the window: no refund, auto-renew goes off and the access runs to its end', async () => {
    const u = await buyByCard(LATE, 'Lena');
    const paid = await lastPayment(LATE);
    const sub = await activeSub(LATE);
    await u.waitMessage(/./, await u.command('menu'));
    await u.tap('🔑 My subscription', { text: /Auto-renew: off/ });
    const switched = j.mark();
    await u.tap('🔁 Turn on auto-renew', { text: /Auto-renew is on/ });
    await u.waitMessage(/Auto-renew: on/, switched, 30_000);
    // The payment was made four days ago (REFUND_WINDOW is 3d): only the clock is moved, nothing else.
    await j.sql(`update payments set paid_at = now() - interval '4 days' where id = ?`, [paid.id]);

    await u.waitMessage(/./, await u.command('menu'));
    await u.tap('🔑 My subscription', { text: /Auto-renew: on/ });
    const confirm = textOf(await u.tap('✖️ Cancel subscription', { text: /Cancel subscription/ }));
    assert.match(confirm, /refund window has passed, so there is no refund/);
    assert.match(confirm, /your access runs to/);
    const done = textOf(await u.tap('⏹ Turn off auto-renew', { text: /Auto-renew is off/ }));
    assert.match(done, /Your access runs to/);

    const [settings] = await j.sql(
      `select a.enabled from auto_renew_settings a join users u on u.id = a.user_id where u.telegram_id = ?`,
      [LATE],
    );
    assert.equal(settings.enabled, false);
    const [row] = await j.sql(`select status, expires_at from subscriptions where id = ?`, [sub.id]);
    assert.equal(row.status, 'active');
    assert.equal(new Date(row.expires_at).getTime(), new Date(sub.expires_at).getTime(), 'same end');
    assert.ok((await j.nodeClients()).includes(sub.client_email), 'the key still works');
    assert.equal(refundsAtShop(paid.provider_payment_id).length, 0);
  });

  it('admin refund from the bot: payment → card → "50 reason" → confirm; YooKassa refunds 50, audited tg:<admin>, money holds', async () => {
    const paid = await lastPayment(LATE);
    const before = await activeSub(LATE);
    const admin = j.user(ADMIN, { first_name: 'Olga', language_code: 'en' });
    await admin.waitMessage(/./, await admin.command('user', String(LATE)));
    await admin.tap('💸 Refund', { text: /Refund a payment/ });
    await admin.tap(/^149 ₽ · yookassa · subscription/, { text: /Left to refund: <b>149 ₽<\/b>/ });
    const prompt = await admin.tap('↩️ The way it was paid (card / Stars)', { text: /Refund up to 149 ₽/ });
    assert.match(JSON.stringify(prompt.params.reply_markup), /force_reply/);

    // Too much first: the bot explains and nothing is booked.
    let since = j.mark();
    j.emu.injectReply(ADMIN, '500 too much');
    await admin.waitMessage(/at most 149 ₽/, since);
    await admin.tap('↩️ The way it was paid (card / Stars)', { text: /Refund up to 149 ₽/ });
    since = j.mark();
    j.emu.injectReply(ADMIN, '50 customer could not connect');
    const confirm = await admin.waitMessage(/Refund <b>50 ₽<\/b> the way it was paid/, since);
    assert.match(textOf(confirm), /📝 customer could not connect$/);
    const done = textOf(await admin.tap('✅ Refund', { text: /Refund of 50 ₽/ }));
    assert.match(done, /done/);

    assert.deepEqual(
      refundsAtShop(paid.provider_payment_id).map((r) => r.amount.value),
      ['50.00'],
      'one refund of 50.00 at YooKassa',
    );
    const [p] = await j.sql(`select refunded_amount, status from payments where id = ?`, [paid.id]);
    assert.deepEqual([p.refunded_amount, p.status], ['50.00', 'succeeded']);
    const audit = await j.sql(
      `select admin, result, params from admin_actions where action = 'payment.refund' and target = ?`,
      [`payment:${paid.id}`],
    );
    assert.equal(audit.length, 1);
    assert.deepEqual([audit[0].admin, audit[0].result], [`tg:${ADMIN}`, 'ok']);
    assert.equal(audit[0].params.reason, 'customer could not connect');
    // The refunded share of the hour comes off the access it paid for.
    const after = await activeSub(LATE);
    assert.ok(new Date(after.expires_at) < new Date(before.expires_at), 'the access is shortened');

    // The money invariant over everything this journey did (a top-up grants no access by design).
    const topUps = new Set(
      (await j.sql(`select id from payments where purpose = 'topup'`)).map((r) => String(r.id)),
    );
    const money = await checkMoney(j.sys);
    const violations = Object.entries(money.details).flatMap(([kind, ids]) =>
      ids
        .filter((id) => !(kind === 'succeeded_with_0_grants' && topUps.has(id)))
        .map((id) => `${kind}:${id}`),
    );
    assert.deepEqual(violations, []);
  });

  it('the refund API answers a repeated Idempotency-Key with the refund it booked (one refund at YooKassa)', async () => {
    const paid = await lastPayment(LATE);
    const call = () =>
      j.api.call('POST', `/api/v1/admin/payments/${paid.id}/refund`, {
        token: ADMIN_TOKEN,
        body: { amount: '10.00', reason: 'twice delivered tap' },
        headers: { 'idempotency-key': `tg-tap-${base}` },
      });
    const [first, second] = [await call(), await call()];
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.refund_id, first.body.refund_id);
    assert.deepEqual(
      refundsAtShop(paid.provider_payment_id).map((r) => r.amount.value),
      ['50.00', '10.00'],
    );
    const [p] = await j.sql(`select refunded_amount from payments where id = ?`, [paid.id]);
    assert.equal(p.refunded_amount, '60.00');
  });
});
