import assert from 'node:assert/strict';
import { Journey, type JourneyUser, textOf } from '../support/journey';

// The buyer's side of a Stars subscription through the bot (issue 13): the consent screen offers it for a
// 30-day tariff, the bot shows Telegram's invoice link, the first payment grants the access, Telegram's
// recurring charge (forwarded by the bot with is_recurring) extends it by 30 days, and "Turn off auto-renew"
// cancels the subscription at Telegram. Telegram ids 955_000_000–955_999_999.
describe('journey: Stars subscription opt-in, a renewal charge, opt-out', function () {
  this.timeout(150_000);
  const TG = 955_100_000 + Math.floor(Math.random() * 100_000);
  const DAY_MS = 86_400_000;
  const j = new Journey();
  let buyer: JourneyUser;
  let firstCharge = '';

  before(async () => {
    await j.start();
    await j.createTariff({
      slug: 'stars-month-journey',
      name: 'Stars Month',
      price: '299.00',
      duration: 'P30D',
      star_price: 40,
      display_order: -30,
    });
    buyer = j.user(TG, { first_name: 'Stella', language_code: 'en' });
    await buyer.start();
  });
  after(async () => {
    await j.stop();
  });

  it('the consent screen offers a Stars subscription; paying the invoice link grants the access', async () => {
    await buyer.tap('💳 Plans', { text: /Choose a plan/ });
    await buyer.tap(/^Stars Month · /, { text: /How would you like to pay/ });
    const consent = await buyer.tap('💳 Pay and turn on auto-renew', { text: /Auto-renew/ });
    assert.match(textOf(consent), /Telegram itself charges 40 ⭐ every 30 days/);
    await buyer.tap('⭐ Stars subscription: 40 ⭐ / 30 days', { text: /Telegram Stars subscription: 40 ⭐/ });
    const url = buyer.openUrl('Pay 40 ⭐');
    const link = j.emu.calls('createInvoiceLink').at(-1)!;
    assert.equal(link.params.subscription_period, 2_592_000);
    const since = j.mark();
    const first = j.emu.payInvoiceLink({ from: TG, url });
    firstCharge = first.telegram_payment_charge_id;
    await buyer.waitMessage(/Your subscription is active until/, since, 30_000);
    const status = await j.api.call('GET', `/api/v1/subscriptions/${TG}/status`);
    assert.deepEqual([status.body.auto_renewal, status.body.auto_renewal_method], [true, 'stars']);
  });

  it("Telegram's recurring charge, forwarded by the bot, extends the access by 30 days", async () => {
    const before = Date.parse((await j.status(TG)).end_date!);
    const since = j.mark();
    const renewal = j.emu.chargeStarSubscription(firstCharge)!;
    await buyer.waitMessage(/Your subscription is extended until/, since, 30_000);
    assert.equal(Date.parse((await j.status(TG)).end_date!) - before, 30 * DAY_MS);
    const [paid] = await j.sql(`select status from payments where telegram_payment_charge_id = ?`, [
      renewal.telegram_payment_charge_id,
    ]);
    assert.equal(paid.status, 'succeeded');
  });

  it('My subscription shows it; turning auto-renew off cancels the subscription at Telegram', async () => {
    await buyer.waitMessage(/Main menu|Choose|menu/i, await buyer.command('menu'), 30_000);
    const screen = await buyer.tap('🔑 My subscription', { text: /Auto-renew: on/ });
    assert.match(textOf(screen), /Telegram Stars/);
    await buyer.tap('⏹ Turn off auto-renew', { text: /Auto-renew is off/ });
    const edit = await j.emu.waitFor((c) => c.method === 'editUserStarSubscription' && !c.error, 30_000);
    assert.deepEqual(
      [edit.params.user_id, edit.params.telegram_payment_charge_id, edit.params.is_canceled],
      [TG, firstCharge, true],
    );
    assert.equal(j.emu.chargeStarSubscription(firstCharge), null, 'Telegram charges no more');
  });
});
