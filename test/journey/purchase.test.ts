import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { formatDateTime } from '../../infra/i18n/format';
import { Journey, type JourneyUser, buttonsOf, textOf, until } from '../support/journey';

// A person in Telegram buying, using, renewing and losing a VPN subscription, with every part real:
// the bot (polling), the API, Temporal, the workers, PostgreSQL, Xray + agent; YooKassa and Telegram emulated.
describe('journey: buying a VPN in Telegram, end to end', function () {
  this.timeout(180_000);
  const j = new Journey({ remindBefore: '5s', paymentTimeout: '15s' });
  let nextId = 7_100_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const newUser = () => j.user(nextId++);
  const SPRINT = /^Sprint · /;

  before(async () => {
    await j.start();
    // An operator puts a 20-second plan on sale through the admin API (short enough to live through here).
    await j.createTariff({
      slug: 'sprint-20s',
      name: 'Sprint',
      price: '10.00',
      duration: 'PT20S',
      star_price: 7,
      display_order: -10,
    });
  });
  after(() => j.stop());

  const uuidOf = (vless: string) => /vless:\/\/([0-9a-f-]{36})@/.exec(vless)?.[1];

  async function activationAfter(u: JourneyUser, since: number) {
    const text = await u.waitMessage(/Your subscription is active until/, since, 30_000);
    const photo = await j.next(u.id, since, { method: 'sendPhoto' }, 10_000);
    return { text, photo };
  }

  it('reaches the payment page in at most 5 taps from /start', async () => {
    const u = newUser();
    await u.start();
    const url = await u.chooseCard(SPRINT);
    assert.ok(u.taps <= 5, `${u.taps} taps from /start to the payment page`);
    console.log(`      taps from /start to the payment page: ${u.taps}`);
    // The link really is a live payment page for the plan's price.
    assert.ok(url.startsWith(`${j.sys.yookassa.origin}/checkout/`), url);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /10\.00 RUB[\s\S]*action="[^"]+\/pay"/);
  });

  it('card: /start → Plans → plan → Card → pay on the page → key + QR; My subscription; Renew; reminder; expiry', async () => {
    const u = newUser();
    const menu = await u.start();
    assert.match(textOf(menu), /Hi, Alex/);
    assert.deepEqual(
      buttonsOf(menu).map((b) => b.text),
      ['💳 Plans', '🔑 My subscription', '💰 Balance', '🎁 Invite a friend', '📲 Setup guide', '💬 Support'],
    );

    // Buy.
    const url = await u.chooseCard(SPRINT);
    const paidAt = j.mark();
    const pressedPay = Date.now();
    await j.payOnPage(url);
    const { text: activation, photo } = await activationAfter(u, paidAt);
    const vless = /vless:\/\/[^\s<]+/.exec(textOf(activation))?.[0];
    assert.ok(vless, 'the activation message carries the vless:// key');
    const uuid = uuidOf(vless);
    assert.ok(uuid, vless);
    assert.match(textOf(activation), /http:\/\/vpn\.test\/sub\//, 'and the subscription URL');
    assert.ok(
      buttonsOf(activation).some((b) => b.text === '📲 Setup guide'),
      'and a Setup guide button',
    );
    assert.ok(photo.photo, 'the QR code is uploaded as a photo');
    assert.equal(photo.photo.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG');
    console.log(`      key delivered ${activation.at - pressedPay} ms after Pay`);

    const first = await j.status(u.id);
    assert.equal(first.has_active_subscription, true);
    assert.ok(first.subscription_id);
    assert.ok((await j.nodeClients()).includes(first.subscription_id), 'the node carries the client');

    // My subscription: active, days left and end date, the same key, a QR.
    const mySince = j.mark();
    await u.start();
    const mine = await u.tap('🔑 My subscription', {
      method: 'sendMessage',
      text: /Your subscription is active/,
    });
    assert.ok(
      j.emu
        .calls()
        .some(
          (c, i) => i >= mySince && c.method === 'sendPhoto' && c.photo && Number(c.params.chat_id) === u.id,
        ),
      'My subscription shows the QR code',
    );
    assert.match(textOf(mine), /Left: 1 day, until /);
    assert.ok(textOf(mine).includes(formatDateTime(first.end_date!, 'en-GB')), textOf(mine));
    assert.equal(uuidOf(textOf(mine)), uuid, 'the same key');

    // Renew through the bot: Renew → plan → Card → pay. The same key, a later end.
    await u.tap('🔄 Renew', { text: /Choose a plan to renew/ });
    const renewUrl = await u.chooseCard(SPRINT, { fromMenu: false });
    assert.notEqual(renewUrl, url);
    const renewSince = j.mark();
    await j.payOnPage(renewUrl);
    await u.waitMessage(/Your subscription is extended until/, renewSince, 30_000);
    const renewed = await j.status(u.id);
    assert.equal(renewed.subscription_id, first.subscription_id, 'the same subscription');
    const gainedMs = Date.parse(renewed.end_date!) - Date.parse(first.end_date!);
    assert.ok(Math.abs(gainedMs - 20_000) < 1_000, `renewal added ${gainedMs} ms, the plan is 20 s`);
    const config = await j.api.call('GET', `/api/v1/subscriptions/${u.id}/config`);
    assert.equal(uuidOf(config.body.vless_url), uuid, 'the key stays the same after renewal');
    assert.ok(
      !j.emu
        .calls()
        .some((c, i) => i >= renewSince && c.method === 'sendPhoto' && Number(c.params.chat_id) === u.id),
      'a renewal sends no new key',
    );

    // The reminder comes REMIND_BEFORE (5 s) before the new end, then the expiry message.
    const end = Date.parse(renewed.end_date!);
    const reminder = await u.waitMessage(/Your subscription ends in/, renewSince, end - Date.now() + 15_000);
    const expired = await u.waitMessage(/Your subscription has ended/, renewSince, end - Date.now() + 20_000);
    assert.ok(reminder.at < expired.at, 'the reminder before the expiry');
    assert.ok(
      reminder.at >= end - 5_000 - 500 && reminder.at < end,
      `reminder ${end - reminder.at} ms before the end (REMIND_BEFORE=5s)`,
    );
    assert.ok(expired.at >= end, 'the expiry message not before the end');
    console.log(
      `      reminder ${end - reminder.at} ms before the end, expiry message ${expired.at - end} ms after it`,
    );
    for (const msg of [reminder, expired]) {
      assert.ok(
        buttonsOf(msg).some((b) => b.text === '🔄 Renew'),
        'with a Renew button',
      );
    }
    const reminders = u.received().filter((c) => /Your subscription ends in/.test(textOf(c)));
    assert.equal(reminders.length, 1, 'one reminder: the renewal came before the first one was due');
    assert.equal(u.received().filter((c) => /has ended/.test(textOf(c))).length, 1);

    // Access is gone: from the node, from the status, from My subscription.
    assert.ok(!(await j.nodeClients()).includes(first.subscription_id), 'the node dropped the client');
    const after = await j.status(u.id);
    assert.deepEqual([after.has_active_subscription, after.status], [false, 'expired']);
    await u.start();
    const none = await u.tap('🔑 My subscription', { text: /no active subscription/ });
    assert.match(textOf(none), /Last payment: paid/);
  });

  it('a declined card: the reason in plain words and a Retry button that leads to a new page that works', async () => {
    const u = newUser();
    await u.start();
    const url = await u.chooseCard(SPRINT);
    const since = j.mark();
    await j.declineOnPage(url, 'insufficient_funds');
    const failed = await u.waitMessage(/The payment failed/, since, 30_000);
    assert.match(textOf(failed), /there are not enough funds on the card/);
    assert.doesNotMatch(textOf(failed), /insufficient_funds/, 'plain words, not the code');
    assert.deepEqual(
      buttonsOf(failed).map((b) => b.text),
      ['🔁 Try again'],
    );
    assert.equal((await j.status(u.id)).last_payment_status, 'canceled');

    await u.tap('🔁 Try again', { text: /An invoice for 10 ₽/ });
    const retryUrl = u.openUrl('➡️ Go to payment');
    assert.notEqual(retryUrl, url, 'a new payment page');
    const paidSince = j.mark();
    await j.payOnPage(retryUrl);
    await activationAfter(u, paidSince);
    const status = await j.status(u.id);
    assert.deepEqual([status.has_active_subscription, status.last_payment_status], [true, 'succeeded']);
    // The old page stays declined: paying it now is refused.
    const old = await fetch(url);
    assert.match(await old.text(), /canceled/);
  });

  it('Telegram Stars: XTR invoice with the star price, pre-checkout ok within 10 s, activation; stale payloads refused', async () => {
    const u = newUser();
    await u.start();
    await u.tap('💳 Plans', { text: /Choose a plan/ });
    await u.tap(SPRINT, { text: /How would you like to pay/ });
    // A first invoice the user abandons: it expires with PAYMENT_TIMEOUT (15 s here).
    const abandoned = await u.tap('⭐ Telegram Stars (7)', { method: 'sendInvoice' });
    const abandonedAt = Date.now();
    const abandonedId = String(abandoned.params.payload);
    // Tapping again while it is open shows the same payment (no second purchase per tap)...
    await u.start();
    await u.tap('💳 Plans', { text: /Choose a plan/ });
    await u.tap(SPRINT, { text: /How would you like to pay/ });
    const again = await u.tap('⭐ Telegram Stars (7)', { method: 'sendInvoice' });
    assert.equal(String(again.params.payload), abandonedId, 'an open payment is reused');
    // ...and once it has expired, a new one is made.
    await until(
      async () =>
        (await j.api.call('GET', `/api/v1/payments/${abandonedId}`)).body.payment_status === 'expired',
      'the abandoned invoice to expire',
      Math.max(0, abandonedAt + 15_000 - Date.now()) + 20_000,
      250,
    );
    await u.waitMessage(/time to pay ran out/); // the expiry notice comes first, so the next taps are on fresh menus
    await u.start();
    await u.tap('💳 Plans', { text: /Choose a plan/ });
    await u.tap(SPRINT, { text: /How would you like to pay/ });
    const invoice = await u.tap('⭐ Telegram Stars (7)', { method: 'sendInvoice' });
    assert.notEqual(String(invoice.params.payload), abandonedId);
    assert.equal(invoice.params.currency, 'XTR');
    assert.equal(invoice.params.provider_token, '');
    assert.deepEqual(invoice.params.prices, [{ label: 'Sprint', amount: 7 }]);
    assert.ok(invoice.params.start_parameter, 'forwarded copies get a deep link, not a Pay button');
    const paymentId = String(invoice.params.payload);
    const payment = await j.api.call('GET', `/api/v1/payments/${paymentId}`);
    assert.deepEqual(
      [payment.body.provider, payment.body.payment_status, payment.body.amount, payment.body.currency],
      ['stars', 'pending', '7.00', 'XTR'],
    );

    // Someone else paying this invoice (e.g. a forwarded copy) is refused before any Stars move.
    const stranger = j.emu.injectPreCheckout({ from: u.id + 1_000_000, payload: paymentId, total_amount: 7 });
    const strangerAnswer = await j.emu.waitFor(
      (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === stranger,
      10_000,
    );
    assert.equal(strangerAnswer.params.ok, false);
    assert.match(String(strangerAnswer.params.error_message), /another Telegram account|другому аккаунту/);

    const asked = Date.now();
    const queryId = j.emu.injectPreCheckout({ from: u.id, payload: paymentId, total_amount: 7 });
    const answer = await j.emu.waitFor(
      (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === queryId,
      10_000,
    );
    assert.equal(answer.params.ok, true);
    assert.ok(!answer.error, 'accepted by Telegram, i.e. answered within 10 s');
    console.log(`      pre_checkout_query answered in ${answer.at - asked} ms`);

    const since = j.mark();
    j.emu.injectSuccessfulPayment({
      from: u.id,
      payload: paymentId,
      total_amount: 7,
      telegram_payment_charge_id: `stars-charge-${paymentId.slice(0, 8)}`,
    });
    await u.waitMessage(/Payment received/, since);
    await activationAfter(u, since);
    const [row] = await j.sql(`select status, telegram_payment_charge_id from payments where id = ?`, [
      paymentId,
    ]);
    assert.deepEqual(row, {
      status: 'succeeded',
      telegram_payment_charge_id: `stars-charge-${paymentId.slice(0, 8)}`,
    });
    assert.equal((await j.status(u.id)).has_active_subscription, true);

    const refused = async (payload: string, reason = /already paid or outdated/) => {
      const id = j.emu.injectPreCheckout({ from: u.id, payload, total_amount: 7 });
      const a = await j.emu.waitFor(
        (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === id,
        10_000,
      );
      assert.ok(!a.error, 'answered in time');
      assert.equal(a.params.ok, false, `pre_checkout for ${payload} refused`);
      assert.match(String(a.params.error_message), reason);
    };
    await refused(randomUUID()); // unknown
    // Forged (Telegram only echoes payloads the bot made): refused, though worded as "could not check".
    await refused('not-even-a-uuid', /./);
    await refused(paymentId); // already paid
    // The abandoned invoice, expired: paying it is refused too.
    await refused(abandonedId);
  });
});
