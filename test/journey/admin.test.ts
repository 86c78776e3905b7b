import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { parkPurchase } from '../api/fixtures';
import { ADMIN_TOKEN } from '../api/harness';
import { Journey, type JourneyUser, textOf } from '../support/journey';

// The operator's view from Telegram: /admin for the configured ids, nothing at all for anybody else.
describe('journey: /admin in the bot, on the real API', function () {
  this.timeout(120_000);
  const base = 7_200_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const ADMIN = base + 1;
  const j = new Journey({ adminIds: [ADMIN] });
  let buyer: JourneyUser;
  let stuck: WorkflowHandle;
  const stuckPaymentId = randomUUID();

  before(async () => {
    await j.start();
    await j.createTariff({
      slug: 'hour',
      name: 'Hour',
      price: '149.00',
      duration: 'PT1H',
      display_order: -10,
    });
    // A real sale today: a user buys through the bot and pays on the YooKassa page.
    buyer = j.user(base + 2, { first_name: 'Buyer' });
    await buyer.start();
    const url = await buyer.chooseCard(/^Hour · /);
    const since = j.mark();
    await j.payOnPage(url);
    await buyer.waitMessage(/Your subscription is active until/, since, 30_000);
    // A purchase stuck for 40 minutes waiting for its payment (a workflow nobody moves, seen via visibility).
    stuck = await parkPurchase(j.sys.client, {
      paymentId: stuckPaymentId,
      telegramId: String(base + 3),
      stage: 'AWAITING_PAYMENT',
      enteredAt: new Date(Date.now() - 40 * 60_000),
      queue: `${j.sys.queue}-nobody`,
    });
  });
  after(async () => {
    await stuck?.terminate('test over').catch(() => undefined);
    await j.stop();
  });

  const admin = () => j.user(ADMIN, { first_name: 'Olga', language_code: 'en' });

  async function openPanel() {
    const since = await admin().command('admin');
    const panel = await j.next(ADMIN, since, { method: 'sendMessage' });
    assert.match(textOf(panel), /Admin panel/);
  }

  it('an admin sees the stats: users, active subscriptions and revenue as money', async () => {
    await openPanel();
    const stats = textOf(await admin().tap('📊 Stats', { text: /Stats/ }));
    console.log(`      /admin stats as shown:\n${stats.replace(/^/gm, '        ')}`);
    const users = Number(/Users: <b>(\d+)<\/b>/.exec(stats)?.[1]);
    const [{ count }] = await j.sql(`select count(*)::int as count from users`);
    assert.equal(users, count, 'the users count is the real one');
    assert.match(stats, /Active subscriptions: <b>1<\/b>/);
    // Revenue: the 149 ₽ paid above, as money, not as the number of currency rows the API returned.
    assert.match(
      stats,
      /Revenue today: <b>[^<]*149(\.00)?\s*(₽|RUB)/,
      "bot/handlers/admin-render.ts renders the API's revenue arrays as their length",
    );
    assert.match(stats, /Revenue this month: <b>[^<]*149(\.00)?\s*(₽|RUB)/);
  });

  it('the conversion counts the buyer who browsed the plans in the bot and paid', async () => {
    // The buyer opened "Plans" in the bot and then paid: one catalog viewer, one buyer.
    const res = await j.api.call('GET', '/api/v1/admin/stats', { token: ADMIN_TOKEN });
    assert.equal(res.status, 200);
    assert.deepEqual(
      [res.body.conversion.catalog_viewers, res.body.conversion.buyers],
      [1, 1],
      'the bot never passes telegram_id to GET /api/v1/tariffs, so no catalog view is recorded',
    );
  });

  it('an admin sees the stuck purchases from Temporal visibility', async () => {
    await openPanel();
    const list = textOf(await admin().tap('⏳ Stuck purchases', { text: /Stuck purchases/ }));
    assert.ok(list.includes(stuckPaymentId), `the stuck purchase is listed:\n${list}`);
    assert.match(list, /AWAITING_PAYMENT/);
    // Other suites may park purchases on the same Temporal server, so only ours are checked.
    const [paid] = await j.sql(
      `select p.id from payments p join users u on u.id = p.user_id where u.telegram_id = ?`,
      [buyer.id],
    );
    assert.ok(!list.includes(paid.id), 'the paid purchase is not stuck');
  });

  it('a non-admin gets nothing: no panel, no data, not even through forged buttons', async () => {
    const stranger = j.user(base + 4, { first_name: 'Eve' });
    await stranger.start();
    const since = j.mark();
    await stranger.command('admin');
    await stranger.command('user', String(buyer.id));
    // Forged admin buttons (callback data the admin keyboard uses).
    const forged = ['a:s', 'a:p', 'a:n', 'a:m', '+a:s'].map((data) =>
      j.emu.injectCallback(stranger.id, data),
    );
    for (const id of forged) {
      const answer = await j.emu.waitFor(
        (c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === id,
      );
      assert.match(String(answer.params.text ?? ''), /outdated/);
    }
    // A plain message afterwards is answered with the menu: by then the commands above were handled.
    const ping = j.mark();
    j.emu.injectMessage(stranger.id, 'hello', stranger.profile);
    await j.next(stranger.id, ping, { method: 'sendMessage', text: /Main menu/ });
    await new Promise((r) => setTimeout(r, 500));

    const replies = j.emu
      .calls()
      .slice(since)
      .filter((c) => Number(c.params.chat_id) === stranger.id && c.method !== 'answerCallbackQuery');
    assert.deepEqual(
      replies.map((c) => [c.method, textOf(c)]),
      [['sendMessage', 'Main menu. What do you need?']],
      'only the menu, for the plain message',
    );
    for (const c of j.emu.calls().slice(since)) {
      const text = JSON.stringify(c.params);
      if (Number(c.params.chat_id) !== stranger.id) continue;
      assert.doesNotMatch(text, /Admin|Revenue|Users:|Stuck|149|AWAITING/i, `no admin data: ${text}`);
    }
  });
});
