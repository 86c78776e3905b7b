import assert from 'node:assert/strict';
import { insertUser, uniqueTelegramId } from '../api/fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from '../api/harness';
import type { PurchaseSystem } from '../support/system';
import { paymentNoticeSignal } from '../../workflows/purchase-messages';

const ALICE = 'alice-console-token-0123456789';
const BOT = 'bot-console-admin-token-0123456789';

/**
 * Admin actions through the real API, the real admin workflows on a real worker, a real Xray node with its
 * agent, and the Telegram emulator: each action's effect as the user and the operator see it, and its audit row.
 */
describe('console: admin actions on users and nodes, each audited', function () {
  this.timeout(180_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  let tariffId: number;
  const admin = (method: string, path: string, body?: unknown, token = ALICE, headers = {}) =>
    api.call(method, path, { token, body, headers });
  const sql = (q: string, p: unknown[] = []) => sys.orm.em.getConnection().execute(q, p);
  const lastAudit = async (target: string) =>
    (await admin('GET', `/api/v1/admin/audit?target=${encodeURIComponent(target)}&limit=1`)).body.entries[0];

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem();
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys, { ADMIN_TOKENS: `alice:${ALICE},bot:${BOT}` });
    const [t] = await sql(`select id from tariffs where slug = 'month-1'`);
    tariffId = t.id;
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  it('grant puts a client on the node, sends the key, and the audit names the token', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const res = await admin('POST', `/api/v1/admin/users/${tg}/grant`, { tariff_id: tariffId, days: 3 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.kind, 'activated');
    const days = (Date.parse(res.body.expires_at) - Date.now()) / 86_400_000;
    assert.ok(days > 2.9 && days <= 3, `about 3 days, got ${days}`);
    assert.ok((await sys.nodeClients()).includes(res.body.subscription_id), 'the node carries the client');
    const key = await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === tg && /vless:\/\//.test(String(c.params.text ?? c.params.caption)),
    );
    assert.ok(key, 'the user got the key');
    const audit = await lastAudit(`user:${tg}`);
    assert.equal(audit.admin, 'token:alice');
    assert.equal(audit.action, 'user.grant');
    assert.equal(audit.result, 'ok');
    assert.deepEqual(audit.params, { tariff_id: tariffId, days: 3 });
  });

  it('extend moves the end by N days once; resend-key sends the key again; revoke removes it from the node', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const granted = (await admin('POST', `/api/v1/admin/users/${tg}/grant`, { tariff_id: tariffId, days: 1 }))
      .body;
    const extended = await admin('POST', `/api/v1/admin/users/${tg}/extend`, { days: 5 });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    assert.equal(extended.body.kind, 'extended');
    assert.equal(extended.body.subscription_id, granted.subscription_id);
    assert.equal(Date.parse(extended.body.expires_at) - Date.parse(granted.expires_at), 5 * 86_400_000);
    const [event] = await sql(
      `select count(*)::int as n from subscription_events where subscription_id = ? and type = 'extended'`,
      [granted.subscription_id],
    );
    assert.equal(event.n, 1, 'one extension event');

    const keysBefore = sys.telegram
      .sentTo(tg)
      .filter((c) => /vless:\/\//.test(String(c.params.text ?? c.params.caption))).length;
    const resent = await admin('POST', `/api/v1/admin/users/${tg}/resend-key`);
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    assert.equal(resent.body.result, 'sent');
    const keysAfter = sys.telegram
      .sentTo(tg)
      .filter((c) => /vless:\/\//.test(String(c.params.text ?? c.params.caption))).length;
    assert.equal(keysAfter, keysBefore + 1, 'the key went out once more');

    const revoked = await admin('POST', `/api/v1/admin/users/${tg}/revoke`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual(
      { revoked: revoked.body.revoked, subscription_id: revoked.body.subscription_id },
      { revoked: true, subscription_id: granted.subscription_id },
    );
    assert.ok(!(await sys.nodeClients()).includes(granted.subscription_id), 'the node no longer carries it');
    const [sub] = await sql(`select status from subscriptions where id = ?`, [granted.subscription_id]);
    assert.equal(sub.status, 'expired');
    const [ev] = await sql(
      `select data from subscription_events where subscription_id = ? and type = 'revoked'`,
      [granted.subscription_id],
    );
    assert.equal(ev.data.admin, 'token:alice');
    const lifetime = await sys.client.workflow
      .getHandle(`subscription-${granted.subscription_id}`)
      .describe();
    assert.equal(lifetime.status.name, 'TERMINATED', 'no reminder for a revoked access');

    const actions = (await admin('GET', `/api/v1/admin/audit?target=user:${tg}`)).body.entries.map(
      (e: { action: string; result: string }) => `${e.action}:${e.result}`,
    );
    assert.deepEqual(actions, ['user.revoke:ok', 'user.resend_key:ok', 'user.extend:ok', 'user.grant:ok']);
  });

  it('a refused action is audited as refused: extend without an access is 409', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const res = await admin('POST', `/api/v1/admin/users/${tg}/extend`, { days: 2 });
    assert.equal(res.status, 409);
    assert.equal(res.body.error, 'no_active_subscription');
    const audit = await lastAudit(`user:${tg}`);
    assert.equal(audit.result, 'refused');
    assert.equal(audit.detail, 'no_active_subscription');
    const unknown = await admin('POST', `/api/v1/admin/users/${uniqueTelegramId()}/revoke`);
    assert.equal(unknown.status, 404);
  });

  it('block (through the bot token, acting for a Telegram admin): cannot buy, access revoked; unblock lets them buy', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const granted = (await admin('POST', `/api/v1/admin/users/${tg}/grant`, { tariff_id: tariffId, days: 1 }))
      .body;
    const asBot = { 'x-admin-telegram-id': '4242' };
    const blocked = await admin(
      'POST',
      `/api/v1/admin/users/${tg}/block`,
      { revoke_access: true },
      BOT,
      asBot,
    );
    assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
    assert.equal(blocked.body.revoked.revoked, true);
    assert.ok(!(await sys.nodeClients()).includes(granted.subscription_id));
    const audit = await lastAudit(`user:${tg}`);
    assert.equal(audit.admin, 'tg:4242', 'the audit names the Telegram admin');
    assert.equal(audit.action, 'user.block');

    const buy = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1', provider: 'yookassa' },
    });
    assert.equal(buy.status, 403);
    assert.equal(buy.body.error, 'user_blocked');

    const unblocked = await admin('POST', `/api/v1/admin/users/${tg}/unblock`);
    assert.equal(unblocked.status, 200);
    const again = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1', provider: 'yookassa' },
    });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    await sys.client.workflow
      .getHandle(again.body.workflow_id)
      .terminate()
      .catch(() => undefined);

    // Another token may not claim to be a Telegram admin: only the bot's token acts on someone's behalf.
    await admin('POST', `/api/v1/admin/users/${tg}/unblock`, undefined, ALICE, asBot);
    assert.equal((await lastAudit(`user:${tg}`)).admin, 'token:alice');
  });

  it('block without revoke_access keeps the access running', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const granted = (await admin('POST', `/api/v1/admin/users/${tg}/grant`, { tariff_id: tariffId, days: 1 }))
      .body;
    const blocked = await admin('POST', `/api/v1/admin/users/${tg}/block`, { reason: 'chargeback' });
    assert.equal(blocked.status, 200);
    assert.equal(blocked.body.revoked, null);
    assert.ok((await sys.nodeClients()).includes(granted.subscription_id), 'the access keeps working');
    const [u] = await sql(
      `select ban_reason, banned_at is not null as banned from users where telegram_id = ?`,
      [tg],
    );
    assert.deepEqual({ ...u }, { ban_reason: 'chargeback', banned: true });
  });

  it('node disable takes it out of selection, enable puts it back; both audited', async () => {
    const node = sys.nodeId!;
    const off = await admin('POST', `/api/v1/admin/nodes/${node}/disable`, undefined, ADMIN_TOKEN);
    assert.deepEqual(off.body, { id: node, status: 'disabled' });
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const [t] = await sql(`select id from tariffs where slug = 'month-1'`);
    const res = await admin('POST', `/api/v1/admin/users/${tg}/grant`, { tariff_id: t.id, days: 1 });
    assert.equal(res.status, 409, 'no node to put the access on');
    assert.equal(res.body.error, 'no_node_available');
    assert.equal((await lastAudit(`user:${tg}`)).result, 'refused');
    const on = await admin('POST', `/api/v1/admin/nodes/${node}/enable`, undefined, ADMIN_TOKEN);
    assert.deepEqual(on.body, { id: node, status: 'up' });
    const audit = (await admin('GET', `/api/v1/admin/audit?target=node:${node}`)).body.entries;
    assert.deepEqual(
      audit.map((e: { admin: string; action: string }) => `${e.admin} ${e.action}`),
      ['token:admin node.enable', 'token:admin node.disable'],
    );
    assert.equal((await admin('POST', `/api/v1/admin/nodes/${crypto.randomUUID()}/disable`)).status, 404);
  });

  it("the timeline tells a purchase's whole story with Temporal UI links", async () => {
    const tg = uniqueTelegramId();
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'month-1');
    const [p] = await sql(`select provider_payment_id, amount, currency from payments where id = ?`, [
      paymentId,
    ]);
    sys.yookassa.pay(p.provider_payment_id);
    await handle.signal(paymentNoticeSignal, {
      providerPaymentId: p.provider_payment_id,
      status: 'succeeded',
      amount: p.amount,
      currency: p.currency,
    });
    await handle.result();
    await admin('POST', `/api/v1/admin/users/${tg}/extend`, { days: 2 });
    // The stage search attribute is eventually consistent in the visibility store.
    let entries: Array<{
      kind: string;
      summary: string;
      workflow_url: string | null;
      data: Record<string, unknown>;
    }> = [];
    const deadline = Date.now() + 15_000;
    do {
      const res = await admin('GET', `/api/v1/admin/users/${tg}/timeline`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      entries = res.body.entries;
      if (entries.some((e) => e.kind === 'purchase.stage' && e.data.stage === 'COMPLETED')) break;
      await new Promise((r) => setTimeout(r, 500));
    } while (Date.now() < deadline);
    const kinds = entries.map((e) => e.kind);
    for (const k of [
      'payment.created',
      'payment.succeeded',
      'subscription.activated',
      'message',
      'purchase.stage',
      'admin',
      'subscription.extended',
    ])
      assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
    assert.ok(kinds.indexOf('payment.created') < kinds.indexOf('payment.succeeded'));
    assert.ok(kinds.indexOf('payment.succeeded') <= kinds.indexOf('subscription.activated'));
    assert.ok(kinds.indexOf('subscription.activated') < kinds.indexOf('subscription.extended'));
    const paid = entries.find((e) => e.kind === 'payment.succeeded')!;
    assert.equal(
      paid.workflow_url,
      `http://temporal-ui.test:8233/namespaces/default/workflows/purchase-${paymentId}`,
    );
    const message = entries.find((e) => e.kind === 'message' && e.data.kind === 'activated')!;
    assert.equal(message.data.status, 'sent');
    assert.match(entries.find((e) => e.kind === 'admin')!.summary, /user\.extend by token:alice: ok/);
    assert.equal((await admin('GET', `/api/v1/admin/users/${uniqueTelegramId()}/timeline`)).status, 404);
  });
});
