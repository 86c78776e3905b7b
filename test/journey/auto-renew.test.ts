import assert from 'node:assert/strict';
import { Journey, type JourneyUser, textOf } from '../support/journey';

// The buyer's side of auto-renew through the bot: the consent text comes before the card payment, paying with
// consent saves the card (by reference) and turns auto-renew on, and "My subscription" shows it and turns it off.
describe('journey: auto-renew opt-in at payment and opt-out in My subscription', function () {
  this.timeout(150_000);
  const TG = 7_400_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const j = new Journey();
  let buyer: JourneyUser;
  const autoRenew = async () =>
    (
      await j.sql(
        `select a.enabled, a.payment_method_id from auto_renew_settings a join users u on u.id = a.user_id
          where u.telegram_id = ?`,
        [TG],
      )
    )[0];

  before(async () => {
    await j.start();
    await j.createTariff({
      slug: 'ar-hour',
      name: 'AR Hour',
      price: '149.00',
      duration: 'PT1H',
      display_order: -20,
    });
    buyer = j.user(TG, { first_name: 'Renata', language_code: 'en' });
    await buyer.start();
  });
  after(async () => {
    await j.stop();
  });

  it('consent is shown before paying; paying with it saves the card and turns auto-renew on', async () => {
    await buyer.tap('💳 Plans', { text: /Choose a plan/ });
    await buyer.tap(/^AR Hour · /, { text: /How would you like to pay/ });
    const consent = await buyer.tap('💳 Pay and turn on auto-renew', { text: /Auto-renew/ });
    assert.match(textOf(consent), /We never store your card number/);
    await buyer.tap('💳 Pay and turn on auto-renew', { text: /An invoice for/ });
    const url = buyer.openUrl('➡️ Go to payment');
    const since = j.mark();
    await j.payOnPage(url);
    await buyer.waitMessage(/Your subscription is active until/, since, 30_000);
    const [payment] = await j.sql(
      `select p.save_payment_method from payments p join users u on u.id = p.user_id where u.telegram_id = ?`,
      [TG],
    );
    assert.equal(payment.save_payment_method, true, 'YooKassa was asked to keep the card');
    const settings = await autoRenew();
    assert.equal(settings.enabled, true);
    assert.ok(settings.payment_method_id, 'the saved method is kept by its id only');
  });

  it('My subscription says it is on; one tap turns it off, and the screen says so', async () => {
    await buyer.waitMessage(/Main menu|Choose|menu/i, await buyer.command('menu'), 30_000);
    const since = j.mark();
    const screen = await buyer.tap('🔑 My subscription', { text: /Auto-renew: on/ });
    assert.match(textOf(screen), /next charge/);
    await buyer.tap('⏹ Turn off auto-renew', { text: /Auto-renew is off: nothing more will be charged/ });
    await buyer.waitMessage(/Auto-renew: off/, since, 30_000);
    assert.equal((await autoRenew()).enabled, false);
    const status = await j.api.call('GET', `/api/v1/subscriptions/${TG}/status`);
    assert.deepEqual([status.body.auto_renewal, status.body.next_charge_at], [false, null]);
  });
});
