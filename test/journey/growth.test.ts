import assert from 'node:assert/strict';
import { formatPrice } from '../../infra/i18n/format';
import { ADMIN_TOKEN } from '../api/harness';
import { Journey, buttonsOf, textOf } from '../support/journey';

// Trials and promo codes through the Telegram emulator, with the real bot, API, Temporal, workers and Xray node.
describe('journey: a free trial on /start and a promo code on the purchase path', function () {
  this.timeout(180_000);
  const j = new Journey({ remindBefore: '5s', paymentTimeout: '1m', trialDuration: '3d' });
  let nextId = 7_300_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const newUser = () => j.user(nextId++);

  before(() => j.start());
  after(() => j.stop());

  it('/start offers the trial to a new user; one tap → the key; a second /start offers it no more', async () => {
    const u = newUser();
    const offer = await u.start();
    assert.match(textOf(offer), /Try it free: 3 days/);
    assert.deepEqual(
      buttonsOf(offer).map((b) => b.text),
      [
        '🎁 Try for free',
        '💳 Plans',
        '🔑 My subscription',
        '🎁 Invite a friend',
        '📲 Setup guide',
        '💬 Support',
      ],
    );
    const since = j.mark();
    await u.tap('🎁 Try for free', { text: /Your trial runs until/ });
    const key = await u.waitMessage(/vless:\/\//, since, 30_000);
    assert.match(textOf(key), /Your subscription is active until/);

    const menu = await u.start();
    assert.doesNotMatch(textOf(menu), /Try it free/);
    assert.deepEqual(
      buttonsOf(menu).map((b) => b.text),
      ['💳 Plans', '🔑 My subscription', '🎁 Invite a friend', '📲 Setup guide', '💬 Support'],
    );
    // My subscription says the access is the trial, and that paying keeps the key.
    const mine = await u.tap('🔑 My subscription', { text: /You are on the free trial until/ });
    assert.match(textOf(mine), /the key stays the same/);
  });

  it('Plans → 🎟 Promo code → /promo CODE → plan → Card: the page asks for the discounted price', async () => {
    const created = await j.api.call('POST', '/api/v1/admin/promo-codes', {
      token: ADMIN_TOKEN,
      body: { code: 'BOT50', kind: 'percent', value: 50 },
    });
    assert.equal(created.status, 201, created.text);
    const u = newUser();
    await u.start();
    await u.tap('💳 Plans', { text: /Choose a plan/ });
    const prompt = await u.tap('🎟 Promo code', { text: /Send your promo code/ });
    assert.match(JSON.stringify(prompt.params.reply_markup), /force_reply/);
    const since = await u.command('promo', 'bot50');
    const priced = await u.waitMessage(/Code accepted: 50 % off/, since);
    // The tariff buttons carry the code on to the payment (callback "tr:<id>:BOT50").
    assert.ok(
      buttonsOf(priced).some((b) => b.callback_data?.endsWith(':BOT50')),
      JSON.stringify(buttonsOf(priced)),
    );
    await u.tap(buttonsOf(priced)[0].text, { text: /How would you like to pay/ });
    const page = await u.tap('💳 Card (YooKassa)', { text: /An invoice for/ });
    const [row] = await j.sys.orm.em
      .getConnection()
      .execute(
        `select p.amount, p.list_price from payments p join users u on u.id = p.user_id where u.telegram_id = ? order by p.created_at desc limit 1`,
        [u.id],
      );
    assert.equal(Number(row.amount) * 2, Number(row.list_price));
    assert.ok(textOf(page).includes(formatPrice(row.amount, 'RUB')), textOf(page));
  });

  it('a refused code gets its own message', async () => {
    const u = newUser();
    await u.start();
    const since = await u.command('promo', 'NOPE-NOPE');
    await u.waitMessage(/There is no such promo code/, since);
  });
});
