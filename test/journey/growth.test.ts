import assert from 'node:assert/strict';
import { formatPrice } from '../../infra/i18n/format';
import { ADMIN_TOKEN } from '../api/harness';
import { Journey, buttonsOf, textOf } from '../support/journey';

// Trials and promo codes through the Telegram emulator, with the real bot, API, Temporal, workers and Xray node.
describe('journey: a free trial on /start and a promo code on the purchase path', function () {
  this.timeout(180_000);
  let nextId = 7_300_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const ADMIN = nextId++;
  const j = new Journey({ remindBefore: '5s', paymentTimeout: '1m', trialDuration: '3d', adminIds: [ADMIN] });
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
        '💰 Balance',
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
      ['💳 Plans', '🔑 My subscription', '💰 Balance', '🎁 Invite a friend', '📲 Setup guide', '💬 Support'],
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

  it('/codes: an admin sees every code with its activations, users and revenue; others get nothing', async () => {
    const created = await j.api.call('POST', '/api/v1/admin/promo-codes', {
      token: ADMIN_TOKEN,
      body: { code: 'DAYS5', kind: 'days', value: 5, max_uses: 3 },
    });
    assert.equal(created.status, 201, created.text);
    const redeemer = newUser();
    await redeemer.start();
    await redeemer.waitMessage(/Code accepted: \+5 days/, await redeemer.command('promo', 'days5'), 30_000);

    const admin = j.user(ADMIN, { language_code: 'en' });
    const list = await admin.waitMessage(/Promo codes/, await admin.command('codes'), 30_000);
    const text = textOf(list);
    assert.match(text, /DAYS5<\/code> · \+5 days\nActivations: 1 \/ 3 · users: 1\nRevenue: 0\.00 RUB/);
    // BOT50 from the test before: one pending card payment holds a use, no money taken yet.
    assert.match(text, /BOT50<\/code> · 50 %\nActivations: 1 · users: 1/);

    // A non-admin's /codes is ignored: the /start sent after it is the first thing answered (one queue per chat).
    const stranger = newUser();
    await stranger.command('codes');
    await stranger.start();
    assert.equal(stranger.received().length, 1, 'only the /start was answered');
    assert.doesNotMatch(textOf(stranger.received()[0]), /Promo codes/);
  });

  it('a refused code gets its own message', async () => {
    const u = newUser();
    await u.start();
    const since = await u.command('promo', 'NOPE-NOPE');
    await u.waitMessage(/There is no such promo code/, since);
  });
});
