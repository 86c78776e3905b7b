import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { purchaseEnd } from '../support/purchase-end';
import type { PurchaseSystem } from '../support/system';
import { waitFor } from '../support/wait-for-value';
import { signalProviderState } from '../support/webhook';
import { httpGetViaSocks, startHttpTarget, startXrayClient, type XrayClient } from '../support/xray';
import { insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApiOnSystem } from './harness';

const DAY_MS = 86_400_000;
const cents = (v: string | number) => Math.round(Number(v) * 100);

describe('api: plan change (seed scenario 6; real PostgreSQL, Temporal, Xray node, YooKassa emulator)', function () {
  this.timeout(240_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  const clients: XrayClient[] = [];
  const extraStops: Array<() => Promise<unknown>> = [];

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem();
    await sys.start();
    await sys.startWorkers();
    // A short node wait: an upgrade to a location without a node fails (and is refunded) within seconds.
    api = await startApiOnSystem(sys, { NODE_WAIT_LIMIT: '3s' });
    sys.yookassa.setWebhookUrl(`${api.url}/api/v1/payments/webhook`);
    web = await startHttpTarget();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    for (const stop of extraStops) await stop().catch(() => undefined);
    await web?.close();
    await api?.close();
    await sys?.stop();
  });

  const sql = (q: string, params: unknown[] = []) => sys.orm.em.getConnection().execute(q, params);
  const finished = (paymentId: string) => purchaseEnd(api.temporal, paymentId);
  const subOf = async (userId: string) =>
    (
      await sql(
        `select s.*, t.slug from subscriptions s join tariffs t on t.id = s.tariff_id where s.user_id = ? order by s.created_at desc limit 1`,
        [userId],
      )
    )[0];

  /** Pays a pending card payment at the emulator, as a user on the checkout page would, and waits for the end. */
  async function payByCard(paymentId: string) {
    const [p] = await sql(`select provider_payment_id from payments where id = ?`, [paymentId]);
    sys.yookassa.pay(p.provider_payment_id);
    await signalProviderState(sys, paymentId, p.provider_payment_id);
    return { stage: await finished(paymentId), providerPaymentId: String(p.provider_payment_id) };
  }

  async function buy(tg: number, slug: string) {
    const res = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: slug },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal((await payByCard(res.body.payment_id)).stage, 'COMPLETED');
    return String(res.body.payment_id);
  }

  /** A user with an active month bought by card, and a real Xray client on its key. */
  async function userWithMonth() {
    const tg = uniqueTelegramId();
    const user = await insertUser(sys.orm, tg);
    await buy(tg, 'month-1');
    const sub = await subOf(user.id);
    const client = await startXrayClient(sys.xray!.linkFor(sub.client_uuid));
    clients.push(client);
    return { tg, userId: String(user.id), sub, client };
  }
  const tunnelWorks = (c: XrayClient) =>
    httpGetViaSocks(c.socksPort, web.url('/hello'), { timeoutMs: 5_000 }).then(
      (r) => r.status === 200,
      () => false,
    );
  const change = (tg: number, body: Record<string, unknown>) =>
    api.call('POST', `/api/v1/subscriptions/${tg}/change`, { body });

  it('upgrade: the unused month is credited, the emulator is asked for exactly the difference, the key keeps working', async () => {
    const u = await userWithMonth();
    assert.equal(await tunnelWorks(u.client), true, 'the paid key works through the real node');

    const quote = await api.call('GET', `/api/v1/subscriptions/${u.tg}/change`);
    assert.equal(quote.status, 200, JSON.stringify(quote.body));
    const q3 = quote.body.options.find((o: { slug: string }) => o.slug === 'month-3');
    assert.equal(q3.kind, 'upgrade');

    const res = await change(u.tg, { tariff_slug: 'month-3' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    // A month used for a few seconds is worth all but a kopeck or so of its 199.00.
    const credit = Number(res.body.credit);
    assert.ok(credit > 198 && credit <= 199, res.body.credit);
    assert.equal(
      cents(res.body.amount),
      cents('499.00') - cents(res.body.credit),
      'amount = new price − credit',
    );
    const [p] = await sql(`select provider_payment_id, purpose, amount from payments where id = ?`, [
      res.body.payment_id,
    ]);
    assert.equal(p.purpose, 'upgrade');
    assert.equal(
      sys.yookassa.payment(p.provider_payment_id).amount.value,
      res.body.amount,
      'the amount at YooKassa is the difference',
    );
    assert.ok(res.body.confirmation_url, 'a checkout page to pay the difference');

    // Asked again while it waits for the payment: the same payment, not a second one.
    const again = await change(u.tg, { tariff_slug: 'month-3' });
    assert.deepEqual([again.status, again.body.payment_id], [201, res.body.payment_id]);

    assert.equal((await payByCard(res.body.payment_id)).stage, 'COMPLETED');
    const after = await subOf(u.userId);
    assert.equal(after.id, u.sub.id, 'the same access');
    assert.equal(after.slug, 'month-3', 'the new tariff at once');
    assert.equal(after.client_uuid, u.sub.client_uuid, 'the same key');
    const left = new Date(after.expires_at).getTime() - Date.now();
    assert.ok(Math.abs(left - 90 * DAY_MS) < 60_000, `new end = now + 90 days (${left} ms left)`);
    assert.equal(await tunnelWorks(u.client), true, 'the same key still carries traffic after the upgrade');
    const status = await api.call('GET', `/api/v1/subscriptions/${u.tg}/status`);
    assert.equal(status.body.tariff_name, '3 месяца');
    assert.equal(status.body.days_remaining, 90);
    // The lifetime workflow got the new end (its revoke timer moved with it).
    await waitFor(async () => {
      const life = await api.temporal.workflow
        .getHandle(`subscription-${u.sub.id}`)
        .query<{ expiresAt: string }>('status');
      return Math.abs(Date.parse(life.expiresAt) - new Date(after.expires_at).getTime()) < 1_000
        ? true
        : undefined;
    }, 'the lifetime to take the new end');
    const [c] = await sql(`select status from plan_changes where id = ?`, [res.body.payment_id]);
    assert.equal(c.status, 'applied');
  });

  it('a credit that covers the new price: 200, no payment at YooKassa, the rest of the credit on the balance', async () => {
    const u = await userWithMonth();
    await buy(u.tg, 'month-1'); // a second month stacked: about 398.00 of unused value
    const [t] = await sql(
      `insert into tariffs (slug, name, price, duration_seconds) values (?, 'Two months', '300.00', ?) returning id`,
      [`two-months-${randomUUID().slice(0, 6)}`, 60 * 86_400],
    );
    const atShop = sys.yookassa.payments().length;

    const res = await change(u.tg, { tariff_id: t.id });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'applied');
    assert.equal(res.body.amount, '0.00');
    const credit = Number(res.body.credit);
    assert.ok(credit > 397 && credit <= 398, res.body.credit);
    assert.equal(res.body.balance_credited, (credit - 300).toFixed(2));
    assert.equal(sys.yookassa.payments().length, atShop, 'nothing was asked of YooKassa');

    const after = await subOf(u.userId);
    assert.equal(Number(after.tariff_id), Number(t.id));
    assert.equal(after.client_uuid, u.sub.client_uuid);
    const balance = (await api.call('GET', `/api/v1/users/${u.tg}/balance`)).body;
    assert.equal(balance.balance, res.body.balance_credited, 'the leftover credit is on the balance');
    assert.equal(await tunnelWorks(u.client), true);
  });

  it('concurrent change requests make one change and one payment; another target meanwhile is 409 change_pending', async () => {
    const u = await userWithMonth();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => change(u.tg, { tariff_slug: 'month-3' })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(6).fill(201),
      JSON.stringify(answers.map((a) => a.body)),
    );
    assert.equal(new Set(answers.map((a) => a.body.payment_id)).size, 1, 'one payment for all of them');
    const rows = await sql(`select id from plan_changes where subscription_id = ?`, [u.sub.id]);
    assert.equal(rows.length, 1, 'one change recorded');
    const atShop = sys.yookassa
      .payments()
      .filter(
        (p) => (p.metadata as Record<string, string> | undefined)?.purchase_id === answers[0].body.payment_id,
      );
    assert.equal(atShop.length, 1, 'one payment at YooKassa');

    const other = await change(u.tg, { tariff_slug: 'month-12' });
    assert.deepEqual([other.status, other.body.error], [409, 'change_pending']);
  });

  it('an upgrade that cannot be provisioned is refunded in full; the access stays as it was', async () => {
    const u = await userWithMonth();
    const [t] = await sql(
      `insert into tariffs (slug, name, price, duration_seconds, location) values (?, 'Germany', '600.00', ?, 'de') returning id`,
      [`de-${randomUUID().slice(0, 6)}`, 30 * 86_400],
    );
    const res = await change(u.tg, { tariff_id: t.id });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const paid = await payByCard(res.body.payment_id);
    assert.equal(paid.stage, 'REFUNDED', 'no node in that location: refunded');
    const refunds = sys.yookassa.refunds().filter((r) => r.payment_id === paid.providerPaymentId);
    assert.deepEqual(
      refunds.map((r) => r.amount.value),
      [res.body.amount],
      'the whole difference back, once',
    );
    const after = await subOf(u.userId);
    assert.deepEqual(
      [after.slug, after.node_id, new Date(after.expires_at).getTime()],
      [u.sub.slug, u.sub.node_id, new Date(u.sub.expires_at).getTime()],
      'tariff, node and end unchanged',
    );
    assert.equal(await tunnelWorks(u.client), true, 'the old key still works');
    // The refunded change no longer blocks a new one.
    const next = await change(u.tg, { tariff_slug: 'month-3' });
    assert.equal(next.status, 201, JSON.stringify(next.body));
  });

  it('an upgrade paid after the access was renewed is refunded (the credit was quoted for the old end)', async () => {
    const u = await userWithMonth();
    const res = await change(u.tg, { tariff_slug: 'month-3' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await buy(u.tg, 'month-1'); // a renewal while the upgrade waits for its payment
    const renewed = await subOf(u.userId);
    const paid = await payByCard(res.body.payment_id);
    assert.equal(paid.stage, 'REFUNDED');
    assert.equal(sys.yookassa.refunds().filter((r) => r.payment_id === paid.providerPaymentId).length, 1);
    const after = await subOf(u.userId);
    assert.deepEqual(
      [after.slug, new Date(after.expires_at).getTime()],
      ['month-1', new Date(renewed.expires_at).getTime()],
    );
  });

  it('downgrade: scheduled, shown by GET /change, and applied by the next renewal', async () => {
    const tg = uniqueTelegramId();
    const user = await insertUser(sys.orm, tg);
    await buy(tg, 'month-3');
    const before = await subOf(user.id);

    const res = await change(tg, { tariff_slug: 'month-1' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.kind, res.body.status, res.body.amount], ['downgrade', 'scheduled', '0.00']);
    assert.equal(
      Date.parse(res.body.effective_at),
      new Date(before.expires_at).getTime(),
      'from the current end',
    );
    assert.equal((await subOf(user.id)).slug, 'month-3', 'nothing changes before the renewal');
    const again = await change(tg, { tariff_slug: 'month-1' });
    assert.deepEqual(
      [again.status, again.body.change_id],
      [200, res.body.change_id],
      'asked again: the same change',
    );
    const quote = (await api.call('GET', `/api/v1/subscriptions/${tg}/change`)).body;
    assert.deepEqual(
      [quote.pending.kind, quote.pending.status, quote.pending.tariff_name],
      ['downgrade', 'scheduled', '1 месяц'],
    );

    await buy(tg, 'month-1'); // the renewal, at the new (cheaper) tariff
    const after = await subOf(user.id);
    assert.equal(after.slug, 'month-1', 'the renewal applied the downgrade');
    assert.equal(
      new Date(after.expires_at).getTime() - new Date(before.expires_at).getTime(),
      30 * DAY_MS,
      'renewed by the new tariff from the old end',
    );
    const [c] = await sql(`select status from plan_changes where id = ?`, [res.body.change_id]);
    assert.equal(c.status, 'applied');
    assert.equal((await api.call('GET', `/api/v1/subscriptions/${tg}/change`)).body.pending, null);
  });

  it('a declined upgrade payment frees the access; Retry asks for the same change again with a new payment', async () => {
    const u = await userWithMonth();
    const res = await change(u.tg, { tariff_slug: 'month-3' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const [p] = await sql(`select provider_payment_id from payments where id = ?`, [res.body.payment_id]);
    sys.yookassa.decline(p.provider_payment_id);
    await signalProviderState(sys, res.body.payment_id, p.provider_payment_id);
    assert.equal(await finished(res.body.payment_id), 'CANCELED');
    assert.equal((await subOf(u.userId)).slug, 'month-1', 'nothing changed');

    const retry = await api.call('POST', `/api/v1/payments/${res.body.payment_id}/retry`);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.notEqual(retry.body.payment_id, res.body.payment_id, 'a new payment');
    const [again] = await sql(`select purpose, amount from payments where id = ?`, [retry.body.payment_id]);
    assert.deepEqual(
      [again.purpose, String(again.amount)],
      ['upgrade', retry.body.amount],
      'still the difference, not the full price',
    );
    assert.equal((await payByCard(retry.body.payment_id)).stage, 'COMPLETED');
    assert.equal((await subOf(u.userId)).slug, 'month-3');
    const changes = await sql(
      `select status from plan_changes where subscription_id = ? order by created_at`,
      [u.sub.id],
    );
    assert.deepEqual(
      changes.map((c) => c.status),
      ['lapsed', 'applied'],
    );
  });

  it('refusals: same tariff, a downgrade to another location, no access, no tariff named, Stars', async () => {
    const u = await userWithMonth();
    const same = await change(u.tg, { tariff_slug: 'month-1' });
    assert.deepEqual([same.status, same.body.error], [409, 'same_tariff']);
    const [cheapDe] = await sql(
      `insert into tariffs (slug, name, price, duration_seconds, location) values (?, 'Cheap DE', '99.00', ?, 'de') returning id`,
      [`cheap-de-${randomUUID().slice(0, 6)}`, 30 * 86_400],
    );
    const elsewhere = await change(u.tg, { tariff_id: cheapDe.id });
    assert.deepEqual([elsewhere.status, elsewhere.body.error], [409, 'location_mismatch']);
    const nobody = uniqueTelegramId();
    await insertUser(sys.orm, nobody);
    const none = await change(nobody, { tariff_slug: 'month-3' });
    assert.deepEqual([none.status, none.body.error], [404, 'no_active_subscription']);
    const huge = await change(u.tg, { tariff_id: 9_999_999_999 });
    assert.deepEqual(
      [huge.status, huge.body.error],
      [404, 'tariff_not_found'],
      'an id past int4 is unknown, not a 5xx',
    );
    const bad = await change(u.tg, {});
    assert.equal(bad.status, 422);
    const stars = await change(u.tg, { tariff_slug: 'month-3', provider: 'stars' });
    assert.equal(stars.status, 422);
  });

  it('an upgrade to another location moves the same key to a node there and removes it from the old node', async () => {
    const u = await userWithMonth();
    const nl = { xray: sys.xray!, agent: sys.agent!, target: sys.target! };
    const deNodeId = await sys.addLocalNode(100, 'de');
    const de = { xray: sys.xray!, agent: sys.agent!, target: sys.target! };
    // The system keeps pointing at the first node; the second one is stopped by this suite.
    Object.assign(sys, nl);
    extraStops.push(
      () => de.agent.stop(),
      () => de.xray.stop(),
      () => de.target.close(),
    );
    const clientsOn = async (agent: typeof de.agent) => {
      const r = await agent.call('GET', '/clients');
      return (r.json.clients ?? r.json).map((c: { email: string }) => c.email) as string[];
    };
    const [t] = await sql(
      `insert into tariffs (slug, name, price, duration_seconds, location) values (?, 'Germany month', '250.00', ?, 'de') returning id`,
      [`de-month-${randomUUID().slice(0, 6)}`, 30 * 86_400],
    );
    const res = await change(u.tg, { tariff_id: t.id });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(cents(res.body.amount), cents('250.00') - cents(res.body.credit));
    assert.equal((await payByCard(res.body.payment_id)).stage, 'COMPLETED');

    const after = await subOf(u.userId);
    assert.equal(after.node_id, deNodeId, 'the access is on the node in the new location');
    assert.equal(after.client_uuid, u.sub.client_uuid, 'with the same client UUID');
    assert.ok((await clientsOn(de.agent)).includes(u.sub.client_email), 'the new node carries the client');
    await waitFor(
      async () => ((await clientsOn(nl.agent)).includes(u.sub.client_email) ? undefined : true),
      'the client to leave the old node',
    );
    const moved = await startXrayClient(de.xray.linkFor(u.sub.client_uuid));
    clients.push(moved);
    assert.equal(await tunnelWorks(moved), true, 'the same UUID carries traffic through the new node');
    await waitFor(
      async () => ((await tunnelWorks(u.client)) ? undefined : true),
      'the old node to stop carrying it',
    );
    const config = await api.call('GET', `/api/v1/subscriptions/${u.tg}/config`);
    assert.match(
      config.body.vless_url,
      new RegExp(`^vless://${u.sub.client_uuid}@127\\.0\\.0\\.1:${de.xray.port}`),
    );
  });
});
