import assert from 'node:assert/strict';
import { Journey, type JourneyUser, textOf } from '../support/journey';

const BOT_ADMIN_TOKEN = 'journey-bot-admin-token-0123456789';

// The operator acts from Telegram: /user's card buttons reach the admin API as the tapping admin, and every
// action leaves an audit row naming that admin's telegram id.
describe('journey: admin actions from the bot, each audited as the admin', function () {
  this.timeout(150_000);
  const base = 7_300_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const ADMIN = base + 1;
  const j = new Journey({
    adminIds: [ADMIN],
    adminBotToken: BOT_ADMIN_TOKEN,
    apiEnv: { ADMIN_TOKENS: `bot:${BOT_ADMIN_TOKEN}` },
  });
  let buyer: JourneyUser;
  const audit = async (action: string) =>
    j.sql(
      `select admin, action, target, result from admin_actions where action = ? and target = ? order by id`,
      [action, `user:${base + 2}`],
    );
  const expiry = async () =>
    Date.parse(
      (
        await j.sql(
          `select s.expires_at from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ? order by s.created_at desc limit 1`,
          [base + 2],
        )
      )[0].expires_at,
    );

  before(async () => {
    await j.start();
    await j.createTariff({
      slug: 'hour',
      name: 'Hour',
      price: '149.00',
      duration: 'PT1H',
      display_order: -10,
    });
    buyer = j.user(base + 2, { first_name: 'Buyer' });
    await buyer.start();
    const url = await buyer.chooseCard(/^Hour · /);
    const since = j.mark();
    await j.payOnPage(url);
    await buyer.waitMessage(/Your subscription is active until/, since, 30_000);
  });
  after(async () => {
    await j.stop();
  });

  const admin = () => j.user(ADMIN, { first_name: 'Olga', language_code: 'en' });

  it('extend +7 days moves the end and the audit says tg:<admin>', async () => {
    const before = await expiry();
    const since = await admin().command('user', String(base + 2));
    const card = await j.next(ADMIN, since, { method: 'sendMessage' });
    assert.match(JSON.stringify(card.params.reply_markup), /➕ 7 days/);
    const done = textOf(await admin().tap('➕ 7 days', { text: /Done: <b>extend \+7d/ }));
    assert.match(done, /recorded in the audit/);
    const moved = (await expiry()) - before;
    assert.equal(Math.round(moved / 86_400_000), 7, 'seven days later');
    const rows = await audit('user.extend');
    assert.equal(rows.length, 1);
    assert.equal(rows[0].admin, `tg:${ADMIN}`);
    assert.equal(rows[0].result, 'ok');
  });

  it('resend key sends the key again; the timeline shows the story', async () => {
    const since = j.mark();
    await admin().tap('🔑 Resend key', { text: /Done: <b>resend-key/ });
    await j.sys.telegram.waitFor(
      (c, i) =>
        i >= since &&
        Number(c.params.chat_id) === base + 2 &&
        /vless:\/\//.test(String(c.params.text ?? c.params.caption)),
      30_000,
    );
    assert.equal((await audit('user.resend_key')).length, 1);
    const timeline = textOf(await admin().tap('📜 Timeline', { text: /Timeline of/ }));
    assert.match(timeline, /payment/i);
  });

  it('block asks first, then blocks and revokes; unblock undoes it; both audited', async () => {
    await admin().tap('⬅️ Back to user', { text: /Done|telegram|Telegram/ });
    await admin().tap('🚫 Block', { text: /Block <code>/ });
    await admin().tap('Yes, do it', { text: /Done: <b>block/ });
    const [u] = await j.sql(`select banned_at from users where telegram_id = ?`, [base + 2]);
    assert.ok(u.banned_at, 'the user is blocked');
    assert.equal((await audit('user.block'))[0]?.admin, `tg:${ADMIN}`);
    await admin().tap('✅ Unblock', { text: /Done: <b>unblock/ });
    const [after] = await j.sql(`select banned_at from users where telegram_id = ?`, [base + 2]);
    assert.equal(after.banned_at, null);
    assert.equal((await audit('user.unblock'))[0]?.admin, `tg:${ADMIN}`);
  });

  it('/newcode creates a promo code as the admin (audited tg:<admin>); a refused one gets the reason the API gave', async () => {
    const code = `SPRING${base % 100000}`;
    const a = admin();
    const created = await a.waitMessage(
      /Code created/,
      await a.command('newcode', `${code} percent 20 100 2027-04-30`),
      30_000,
    );
    assert.match(textOf(created), new RegExp(`${code}</code> · 20 %\\nActivations: 0 / 100`));
    const [row] = await j.sql(`select kind, value, max_uses, valid_until from promo_codes where code = ?`, [
      code,
    ]);
    assert.deepEqual([row.kind, Number(row.value), row.max_uses], ['percent', 20, 100]);
    assert.equal(new Date(row.valid_until).toISOString(), '2027-04-30T23:59:59.000Z');
    const [audit] = await j.sql(
      `select admin, result from admin_actions where action = 'promo.create' and target = ?`,
      [`promo:${code}`],
    );
    assert.deepEqual([audit.admin, audit.result], [`tg:${ADMIN}`, 'ok']);

    // The same code again: the API's 409 reason reaches the admin; a malformed command gets the usage.
    const again = await a.waitMessage(/not created/, await a.command('newcode', `${code} days 5`), 30_000);
    assert.match(textOf(again), /code_taken/);
    const usage = await a.waitMessage(/Create a code/, await a.command('newcode', `${code} half 5`), 30_000);
    assert.match(textOf(usage), /percent\|amount\|days/);
  });
});
