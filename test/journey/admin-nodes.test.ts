import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { buttonsOf, Journey, type JourneyUser, textOf, until } from '../support/journey';
import type { RunningAgent } from '../support/agent';
import type { RecordedCall } from '../support/telegram-emulator';

const BOT_ADMIN_TOKEN = 'journey-bot-admin-token-nodes-0123456789';

async function clientsOn(agent: RunningAgent): Promise<string[]> {
  const res = await agent.call('GET', '/clients');
  const list = (res.json.clients ?? res.json) as Array<{ email: string }>;
  return list.map((c) => c.email);
}

// The operator's fleet from Telegram: the node list, a node card, and a drain started with one confirm that
// moves a user to another node of the location for real (two real agents + Xray), audited as the admin.
describe('journey: nodes and drains from the bot admin', function () {
  this.timeout(170_000);
  const ADMIN = 953_200_001;
  const USER = 953_200_011;
  const j = new Journey({
    adminIds: [ADMIN],
    adminBotToken: BOT_ADMIN_TOKEN,
    apiEnv: { ADMIN_TOKENS: `bot:${BOT_ADMIN_TOKEN}` },
    withNode: false,
    workers: false,
  });
  const agents: Record<string, RunningAgent> = {};
  const names: Record<string, string> = {};
  const stops: Array<() => Promise<void>> = [];
  let nodeA: string;
  let nodeB: string;
  let subscriptionId: string;
  let admin: JourneyUser;

  async function node(): Promise<string> {
    const id = await j.sys.addLocalNode(10, 'nl');
    const { agent, xray, target } = j.sys;
    stops.push(async () => {
      await agent?.stop();
      await xray?.stop();
      await target?.close();
    });
    agents[id] = agent!;
    const [row] = await j.sql(`select name from vpn_nodes where id = ?`, [id]);
    names[id] = row.name;
    return id;
  }

  /** Taps Refresh on the node card until its text matches (the card says "as of HH:MM:SS": 1 tap/s). */
  async function refreshUntil(pattern: RegExp): Promise<RecordedCall> {
    let screen: RecordedCall | undefined;
    await until(
      async () => {
        // Within the same second the screen would be identical, and Telegram refuses an identical edit.
        await new Promise((r) => setTimeout(r, 1_050));
        screen = await admin.tap('🔄 Refresh');
        return pattern.test(textOf(screen));
      },
      `node card ${pattern}`,
      90_000,
      0,
    );
    return screen!;
  }

  const audit = (action: string, target: string) =>
    j.sql(`select admin, result from admin_actions where action = ? and target = ? order by id`, [
      action,
      target,
    ]);

  before(async () => {
    await j.start();
    nodeA = await node();
    nodeB = await node();
    // The user holds a vless:// key on A (their app never fetched /sub): the drain sends them the new key.
    const user = j.user(USER);
    await user.start();
    const [u] = await j.sql(`select id from users where telegram_id = ?`, [USER]);
    const [tariff] = await j.sql(
      `insert into tariffs (slug, name, price, duration_seconds, location, locations) values ('nl-month-bo', 'NL', 199, 2592000, 'nl', '{nl}') returning id`,
    );
    subscriptionId = randomUUID();
    const uuid = randomUUID();
    await j.sql(
      `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
       values (?, ?, ?, ?, 'active', ?, ?, ?, now(), now() + interval '30 days')`,
      [subscriptionId, u.id, tariff.id, nodeA, uuid, subscriptionId, randomBytes(24).toString('base64url')],
    );
    const put = await agents[nodeA].call('PUT', `/clients/${subscriptionId}`, { uuid });
    assert.ok(put.status < 300, `client on A: ${put.status}`);
    await j.sys.startWorkers();
    admin = j.user(ADMIN, { first_name: 'Olga', language_code: 'en' });
  });
  after(async () => {
    await j.stop();
    for (const stop of stops) await stop();
  });

  it('Nodes → card → Drain → confirm: the user moves to B (agents agree), A ends disabled, audited tg:<admin>', async () => {
    await j.next(ADMIN, await admin.command('admin'), { text: /Admin panel/ });
    const list = await admin.tap('🖥 Nodes', { text: /Nodes<\/b> \(2\)/ });
    assert.match(textOf(list), new RegExp(`${names[nodeA]}</b> · nl · up · 1/10`));
    assert.ok(buttonsOf(list).some((b) => b.text.startsWith(names[nodeB])));

    const card = await admin.tap(new RegExp(`^${names[nodeA]} `), { text: /Subscriptions: <b>1<\/b> of 10/ });
    assert.ok(buttonsOf(card).some((b) => b.text === '⛔ Disable'));
    await admin.tap('🚚 Drain', { text: /Drain <b>.*<\/b>\? .* its 1 subscriptions move/ });
    assert.deepEqual(await audit('node.drain', `node:${nodeA}`), [], 'nothing runs before the confirm');
    // The drain workflow records its progress once it runs: the card shows it from the next Refresh on.
    await admin.tap('Yes, drain it', { text: /Done: <b>drain/ });
    await refreshUntil(/Drain<\/b>: done\nmoved: <b>1<\/b> · remaining: <b>0<\/b> · failed: <b>0<\/b>/);

    const [sub] = await j.sql(`select node_id from subscriptions where id = ?`, [subscriptionId]);
    assert.equal(sub.node_id, nodeB, 'the database says B');
    assert.ok((await clientsOn(agents[nodeB])).includes(subscriptionId), 'the client is on B');
    assert.ok(!(await clientsOn(agents[nodeA])).includes(subscriptionId), 'and no longer on A');
    const [a] = await j.sql(`select status from vpn_nodes where id = ?`, [nodeA]);
    assert.equal(a.status, 'disabled');
    const moved = await j.emu.waitFor(
      (c) => Number(c.params.chat_id) === USER && /Your server was replaced/.test(textOf(c)),
      10_000,
    );
    assert.match(textOf(moved), /vless:\/\//, 'a vless:// user gets the new key');
    assert.equal(
      j.emu.sentTo(USER).filter((c) => /Your server was replaced/.test(textOf(c))).length,
      1,
      'told once',
    );
    assert.deepEqual(
      (await audit('node.drain', `node:${nodeA}`)).map((r) => [r.admin, r.result]),
      [[`tg:${ADMIN}`, 'ok']],
    );
  });

  it('Enable and Disable from the card change the node and are audited; a drained node offers no Drain', async () => {
    const card = await refreshUntil(/Status: <b>disabled<\/b>/);
    assert.ok(!buttonsOf(card).some((b) => b.text === '🚚 Drain'), 'nothing left to drain');
    await admin.tap('✅ Enable', { text: /Done: <b>enable[\s\S]*Status: <b>(up|down)<\/b>/ });
    assert.notEqual(
      (await j.sql(`select status from vpn_nodes where id = ?`, [nodeA]))[0].status,
      'disabled',
    );
    await admin.tap('⛔ Disable', { text: /Done: <b>disable[\s\S]*Status: <b>disabled<\/b>/ });
    assert.equal((await j.sql(`select status from vpn_nodes where id = ?`, [nodeA]))[0].status, 'disabled');
    for (const action of ['node.enable', 'node.disable'])
      assert.deepEqual(
        (await audit(action, `node:${nodeA}`)).map((r) => r.admin),
        [`tg:${ADMIN}`],
        action,
      );
  });
});
