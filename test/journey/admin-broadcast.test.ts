import assert from 'node:assert/strict';
import { ADMIN_TOKEN } from '../api/harness';
import { buttonsOf, Journey, textOf, until } from '../support/journey';
import type { RecordedCall } from '../support/telegram-emulator';

const BOT_ADMIN_TOKEN = 'journey-bot-admin-token-broadcast-0123456789';

// An operator broadcasts from Telegram: composes the message, picks the audience, sees the preview and the
// recipient count, confirms, and watches (and pauses) it — every write audited as the admin's telegram id.
describe('journey: broadcasts from the bot admin', function () {
  this.timeout(170_000);
  const ADMIN = 953_000_001;
  const RECIPIENTS = [953_000_011, 953_000_012, 953_000_013];
  const BYSTANDER = 953_000_020;
  const OUTSIDER = 953_000_030;
  const MANY_FROM = 953_100_000;
  const MANY = 100;
  const j = new Journey({
    adminIds: [ADMIN],
    adminBotToken: BOT_ADMIN_TOKEN,
    apiEnv: { ADMIN_TOKENS: `bot:${BOT_ADMIN_TOKEN}` },
    withNode: false,
  });
  const profile = { first_name: 'Olga', language_code: 'en' };
  const admin = () => j.user(ADMIN, profile);
  const say = (text: string) => {
    const since = j.mark();
    j.emu.injectMessage(ADMIN, text, profile);
    return since;
  };
  const got = (tg: number, text: string) =>
    j.emu.sentTo(tg).filter((c) => String(c.params.text ?? c.params.caption) === text).length;
  const audit = (action: string) =>
    j.sql(`select admin, target, result from admin_actions where action = ? order by id`, [action]);

  /** Taps Refresh on the progress screen until its text matches. */
  async function refreshUntil(pattern: RegExp): Promise<RecordedCall> {
    let screen: RecordedCall | undefined;
    await until(
      async () => {
        // Within the same second the screen would be identical, and Telegram refuses an identical edit.
        await new Promise((r) => setTimeout(r, 1_050));
        screen = await admin().tap('🔄 Refresh');
        return pattern.test(textOf(screen));
      },
      `progress ${pattern}`,
      90_000,
      0,
    );
    return screen!;
  }

  /** /broadcast → the message → paste the ids → the audience screen. */
  async function compose(text: string, ids: number[]): Promise<void> {
    await j.next(ADMIN, await admin().command('broadcast'), { text: /Send the broadcast as one message/ });
    await j.next(ADMIN, say(text), { text: /Who gets it\?/ });
    await admin().tap('🧾 Paste a list of ids', { text: /Send the recipients/ });
    await j.next(ADMIN, say(ids.join('\n')), { text: new RegExp(`a list of ${ids.length} ids`) });
  }

  before(async () => {
    await j.start();
    for (const tg of [...RECIPIENTS, BYSTANDER]) await j.user(tg).start();
    await j.sql(
      `insert into users (telegram_id, language) select g, 'en' from generate_series(?::bigint, ?::bigint) g`,
      [MANY_FROM, MANY_FROM + MANY - 1],
    );
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const last = j.emu
      .calls()
      .filter((c) => Number(c.params.chat_id) === ADMIN)
      .slice(-4);
    for (const c of last) console.log(c.method, c.error ?? '', textOf(c).slice(0, 300));
  });
  after(async () => {
    await j.stop();
  });

  it('a list of 3 ids: preview as users get it, count 3, confirm → each of the 3 gets it once, audited tg:<admin>', async () => {
    const html = '<b>Winter sale</b>: 20% off this week';
    await compose(`${html}\nOpen the sale | https://vpn.example/sale`, RECIPIENTS);

    const since = j.mark();
    const confirm = await admin().tap('👁 Preview and count', { text: /<b>Recipients: 3<\/b>/ });
    const preview = await j.next(ADMIN, since, { method: 'sendMessage', text: /Winter sale/ });
    assert.equal(textOf(preview), html, 'the preview is the HTML users will get');
    assert.equal(preview.params.parse_mode, 'HTML');
    assert.deepEqual(
      buttonsOf(preview).map((b) => [b.text, b.url]),
      [['Open the sale', 'https://vpn.example/sale']],
    );
    const calls = j.emu.calls();
    assert.ok(calls.indexOf(preview) < calls.indexOf(confirm), 'the count comes under the preview');
    assert.equal(
      (await j.sql(`select count(*)::int as n from broadcasts`))[0].n,
      0,
      'nothing is created before the confirm',
    );

    await admin().tap('✅ Send to 3', { text: /Broadcast<\/b> <code>[0-9a-f-]{36}<\/code>/ });
    for (const tg of RECIPIENTS)
      await j.emu.waitFor((c) => c.method === 'sendMessage' && got(tg, html) > 0, 30_000);
    await refreshUntil(/completed[\s\S]*sent: <b>3<\/b>/);
    for (const tg of RECIPIENTS) {
      assert.equal(got(tg, html), 1, `${tg} got it once`);
      const [sent] = j.emu.sentTo(tg).filter((c) => String(c.params.text) === html);
      assert.equal(buttonsOf(sent)[0]?.url, 'https://vpn.example/sale');
    }
    assert.equal(got(BYSTANDER, html), 0, 'nobody outside the list');

    const [created] = await audit('broadcast.create');
    assert.equal(created.admin, `tg:${ADMIN}`);
    assert.equal(created.result, 'ok');

    // The recent list: the API's GET /admin/broadcasts and the bot's screen built on it.
    const list = await j.api.call('GET', '/api/v1/admin/broadcasts?limit=5', { token: ADMIN_TOKEN });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.broadcasts.length, 1);
    assert.deepEqual(
      [list.body.broadcasts[0].state, list.body.broadcasts[0].sent, list.body.broadcasts[0].total],
      ['completed', 3, 3],
    );
    assert.equal(list.body.broadcasts[0].created_by, `tg:${ADMIN}`);
    const badLimit = await j.api.call('GET', '/api/v1/admin/broadcasts?limit=0', { token: ADMIN_TOKEN });
    assert.equal(badLimit.status, 422, 'a bad limit is a clear 4xx');
    const screen = await admin().tap('📣 Broadcasts', { text: /Broadcasts<\/b> \(latest 1\)/ });
    assert.match(textOf(screen), /completed · 3\/3 · Winter sale: 20% off/);
  });

  it('pause and resume from the bot: nothing moves while paused, then all 100 get it once; both audited', async () => {
    const text = 'Maintenance tonight 02:00–03:00 UTC';
    const ids = Array.from({ length: MANY }, (_, i) => MANY_FROM + i);
    await compose(text, ids);
    await admin().tap('👁 Preview and count', { text: /<b>Recipients: 100<\/b>/ });
    await admin().tap('✅ Send to 100', { text: /State: ▶️ running/ });
    await admin().tap('⏸ Pause', { text: /Done: <b>pause/ });
    const paused = await refreshUntil(/State: ⏸ paused/);
    assert.ok(
      buttonsOf(paused).some((b) => b.text === '▶️ Resume'),
      'a paused broadcast offers Resume',
    );

    // Sends in flight finish; after that nothing is sent while paused.
    await new Promise((r) => setTimeout(r, 2_500));
    const during = ids.reduce((n, tg) => n + got(tg, text), 0);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(
      ids.reduce((n, tg) => n + got(tg, text), 0),
      during,
      'nothing sent while paused',
    );
    assert.ok(during < MANY, 'work left for after the pause');

    await admin().tap('▶️ Resume', { text: /Done: <b>resume/ });
    await refreshUntil(/completed[\s\S]*sent: <b>100<\/b>/);
    for (const tg of ids) assert.equal(got(tg, text), 1, `${tg} got it once`);
    assert.deepEqual(
      (await audit('broadcast.pause')).map((r) => [r.admin, r.result]),
      [[`tg:${ADMIN}`, 'ok']],
    );
    assert.deepEqual(
      (await audit('broadcast.resume')).map((r) => [r.admin, r.result]),
      [[`tg:${ADMIN}`, 'ok']],
    );
  });

  it('cancel asks once more, then nobody else gets it and the screen offers no more controls; audited', async () => {
    const text = 'Last call: the spring plan';
    const ids = Array.from({ length: MANY }, (_, i) => MANY_FROM + i);
    await compose(text, ids);
    await admin().tap('👁 Preview and count', { text: /<b>Recipients: 100<\/b>/ });
    await admin().tap('✅ Send to 100', { text: /State: ▶️ running/ });
    await admin().tap('⏹ Cancel', { text: /Cancel the broadcast\?/ });
    assert.deepEqual(await audit('broadcast.cancel'), [], 'nothing canceled before the confirm');
    await admin().tap('Yes, cancel it', { text: /Done: <b>cancel/ });
    const canceled = await refreshUntil(/State: ⏹ canceled/);
    assert.deepEqual(
      buttonsOf(canceled).map((b) => b.text),
      ['🔄 Refresh', '📣 Broadcasts'],
      'no pause/resume/cancel on a finished broadcast',
    );
    await new Promise((r) => setTimeout(r, 2_000)); // sends already in flight finish
    const reached = ids.filter((tg) => got(tg, text) > 0).length;
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(ids.filter((tg) => got(tg, text) > 0).length, reached, 'nothing sent after the cancel');
    assert.ok(reached < MANY, `stopped before the end (${reached} of ${MANY})`);
    for (const tg of ids) assert.ok(got(tg, text) <= 1, `${tg} at most once`);
    assert.deepEqual(
      (await audit('broadcast.cancel')).map((r) => [r.admin, r.result]),
      [[`tg:${ADMIN}`, 'ok']],
    );
  });

  it('a bad message is refused with the reason; a non-admin reaches none of these screens', async () => {
    const createdBefore = (await audit('broadcast.create')).length;
    // HTML Telegram cannot parse: the preview fails with Telegram's reason, and there is nothing to send.
    await compose('<b>Unclosed sale', RECIPIENTS);
    const beforePreview = j.mark();
    j.emu.tapButton(ADMIN, '👁 Preview and count');
    const failed = await j.next(ADMIN, beforePreview, {
      method: 'sendMessage',
      text: /Telegram refused the message/,
    });
    assert.match(textOf(failed), /parse entities/);
    assert.deepEqual(buttonsOf(failed), []);

    await j.next(ADMIN, await admin().command('broadcast'), { text: /Send the broadcast/ });
    const refused = await j.next(ADMIN, say('photo: http://insecure.example/a.jpg\nHello'), {
      text: /Message not accepted/,
    });
    assert.match(textOf(refused), /must start with https:\/\//);
    await admin().tap('🗑 Discard the draft', { text: /Draft discarded/ });

    const outsider = j.user(OUTSIDER);
    await outsider.start();
    const since = j.mark();
    j.emu.injectCommand(OUTSIDER, 'broadcast', undefined, { language_code: 'en' });
    // Forged buttons of every admin screen: broadcasts list, new draft, pause, node list, drain.
    const forged = ['bc:0', 'bc:1', `bc:10:${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`, 'nd:0'];
    const answered = forged.map((data) => j.emu.injectCallback(OUTSIDER, data));
    for (const id of answered)
      await j.emu.waitFor((c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === id);
    // Updates of one chat run in order: once the last forged tap is answered, /broadcast was handled too.
    const screens = j.emu
      .calls()
      .slice(since)
      .filter((c) => Number(c.params.chat_id) === OUTSIDER && c.method !== 'answerCallbackQuery');
    assert.deepEqual(
      screens.map((c) => textOf(c).slice(0, 40)),
      [],
      'no screen at all for a non-admin (like /admin)',
    );
    const answers = j.emu
      .calls('answerCallbackQuery')
      .filter((c) => answered.includes(String(c.params.callback_query_id)));
    assert.equal(answers.length, forged.length);
    for (const a of answers) assert.match(String(a.params.text), /outdated/);
    assert.equal((await audit('broadcast.create')).length, createdBefore, 'no broadcast was created');
  });
});
