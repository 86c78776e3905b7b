import assert from 'node:assert/strict';
import { Journey, buttonsOf, textOf } from '../support/journey';

// A person inviting a friend, and a person giving a VPN as a gift, through the real bot, API, Temporal, workers,
// PostgreSQL and Xray; Telegram and YooKassa emulated.
describe('journey: invite a friend, give a VPN as a gift', function () {
  this.timeout(180_000);
  const BOT = 'journey_gift_bot';
  const j = new Journey({ apiEnv: { BOT_USERNAME: BOT }, growth: { botUsername: BOT } });
  let nextId = 7_300_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const newUser = () => j.user(nextId++, { language_code: 'en' });
  const PLAN = /^Gift plan · /;

  before(async () => {
    await j.start();
    await j.createTariff({
      slug: 'gift-plan',
      name: 'Gift plan',
      price: '50.00',
      duration: 'PT1H',
      display_order: -20,
    });
  });
  after(() => j.stop());

  it('referral: Invite a friend → link; the friend opens it and pays → the referrer gets 7 days and sees them', async () => {
    const referrer = newUser();
    await referrer.start();
    const screen = await referrer.tap('🎁 Invite a friend', { text: /Invite your friends/ });
    const code = new RegExp(`https://t\\.me/${BOT}\\?start=ref_([a-z0-9]+)`).exec(textOf(screen))?.[1];
    assert.ok(code, textOf(screen));
    assert.match(textOf(screen), /Invited: 0/);

    const friend = newUser();
    await friend.start(`ref_${code}`);
    const since = j.mark();
    await j.payOnPage(await friend.chooseCard(PLAN));
    await friend.waitMessage(/Your subscription is active until/, since, 30_000);
    await referrer.waitMessage(/Your friend paid for a subscription — you got 7 days/, since, 30_000);

    await referrer.start();
    const after = await referrer.tap('🎁 Invite a friend', { text: /Invite your friends/ });
    assert.match(textOf(after), /Invited: 1\nPaid: 1\nDays earned: 7/);
  });

  it('gift: plan → Buy as a gift → pay → link; the friend opens it and gets the access; the buyer cannot', async () => {
    const buyer = newUser();
    await buyer.start();
    await buyer.tap('💳 Plans', { text: /Choose a plan/ });
    await buyer.tap(PLAN, { text: /How would you like to pay/ });
    const invoice = await buyer.tap('🎁 Buy as a gift', { text: /An invoice for/ });
    assert.ok(buttonsOf(invoice).some((b) => b.url));
    const since = j.mark();
    await j.payOnPage(buyer.openUrl('➡️ Go to payment'));
    const giftMessage = await buyer.waitMessage(/Your gift is ready: Gift plan/, since, 30_000);
    const code = new RegExp(`https://t\\.me/${BOT}\\?start=gift_([A-Za-z0-9_-]+)`).exec(
      textOf(giftMessage),
    )?.[1];
    assert.ok(code, textOf(giftMessage));
    assert.equal(
      (await j.status(buyer.id))?.has_active_subscription ?? false,
      false,
      'the buyer got no access',
    );

    const own = await buyer.start(`gift_${code}`);
    assert.match(textOf(own), /your own gift/);

    // Invite a friend → My gifts: the gift waits, with its link to forward again.
    const myGifts = async () => {
      await buyer.start();
      await buyer.tap('🎁 Invite a friend', { text: /Invite your friends/ });
      return textOf(await buyer.tap('🎁 My gifts', { text: /Your gifts/ }));
    };
    const waiting = await myGifts();
    assert.match(waiting, /Gift plan — not claimed yet, until/);
    assert.ok(waiting.includes(`https://t.me/${BOT}?start=gift_${code}`), waiting);

    const friend = newUser();
    const claimed = await friend.start(`gift_${code}`);
    assert.match(textOf(claimed), /Gift claimed! Your access runs until/);
    await friend.waitMessage(/Your subscription is active until/, since, 30_000);
    assert.equal((await j.status(friend.id))?.has_active_subscription, true);
    await buyer.waitMessage(/Your gift has been claimed/, since, 30_000);
    const claimedList = await myGifts();
    assert.match(claimedList, /Gift plan — claimed/);
    assert.ok(!claimedList.includes(code), 'a claimed gift has no link any more');

    const late = newUser();
    assert.match(textOf(await late.start(`gift_${code}`)), /already been claimed/);
  });
});
