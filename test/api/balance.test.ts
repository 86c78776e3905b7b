import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createBalanceActivities } from '../../activities/balance';
import { createLogger } from '../../infra/logger';
import {
  type PurchaseStatus,
  purchaseStatusQuery,
  purchaseWorkflowId,
} from '../../workflows/purchase-messages';
import type { PurchaseSystem } from '../support/system';
import { signalProviderState } from '../support/webhook';
import { insertUser, uniqueTelegramId } from './fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from './harness';
import { waitFor } from '../support/wait-for-value';

describe('api: the balance (ledger, card and Stars top-ups, paying from it)', function () {
  this.timeout(180_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  const started: string[] = [];

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem(); // with a real Xray node: a balance purchase provisions a real client
    await sys.start();
    await sys.startWorkers();
    // Twenty taps at once must reach the balance check, not the open-payment limit.
    // Top-ups by Stars on: 1.5 RUB per Star.
    api = await startApiOnSystem(sys, {
      PURCHASE_OPEN_LIMIT: '50',
      PURCHASE_HOURLY_LIMIT: '100',
      TOPUP_STAR_RATE: '1.5',
    });
    sys.yookassa.setWebhookUrl(`${api.url}/api/v1/payments/webhook`);
  });
  after(async () => {
    for (const id of started)
      await api?.temporal.workflow
        .getHandle(id)
        .terminate()
        .catch(() => undefined);
    await api?.close();
    await sys?.stop();
  });

  const sql = (q: string, params: unknown[] = []) => sys.orm.em.getConnection().execute(q, params);
  const create = async (body: Record<string, unknown>, key?: string) => {
    for (;;) {
      const res = await api.call('POST', '/api/v1/payments/create', {
        body,
        headers: key ? { 'idempotency-key': key } : {},
      });
      if (res.body?.workflow_id) started.push(res.body.workflow_id);
      // On a busy machine a start may outlast the API's wait; the bot retries with the same key, as here.
      if (key && res.status === 503 && res.body?.error === 'purchase_start_timeout') continue;
      return res;
    }
  };
  const stage = async (paymentId: string) =>
    (
      (await api.temporal.workflow
        .getHandle(purchaseWorkflowId(paymentId))
        .query(purchaseStatusQuery)) as PurchaseStatus
    ).stage;
  const finished = (paymentId: string) =>
    waitFor(async () => {
      const s = await stage(paymentId);
      return ['COMPLETED', 'REFUNDED', 'FAILED'].includes(s) ? s : undefined;
    }, `purchase ${paymentId} to finish`);
  const balanceOf = async (tg: number) => (await api.call('GET', `/api/v1/users/${tg}/balance`)).body;
  const newUser = async () => {
    const tg = uniqueTelegramId();
    const user = await insertUser(sys.orm, tg);
    return { tg, userId: String(user.id) };
  };
  /** An operator's credit, as a ledger entry (the only way a balance moves). */
  const credit = (userId: string, amount: string) =>
    sql(`insert into balance_entries (user_id, amount, reason, reference) values (?, ?, 'adjustment', ?)`, [
      userId,
      amount,
      randomUUID(),
    ]);

  it('a card top-up credits the balance once, however often the payment is reported', async () => {
    const { tg } = await newUser();
    assert.deepEqual(await balanceOf(tg), {
      balance: '0.00',
      currency: 'RUB',
      entries: [],
      topup_star_rate: '1.5',
    });
    const res = await create({ telegram_id: tg, purpose: 'topup', amount: '500' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      [res.body.payment_status, res.body.amount, res.body.currency, res.body.provider],
      ['pending', '500.00', 'RUB', 'yookassa'],
    );
    assert.match(res.body.confirmation_url, /^http/);
    const [row] = await sql(`select provider_payment_id, purpose, tariff_id from payments where id = ?`, [
      res.body.payment_id,
    ]);
    assert.deepEqual([row.purpose, row.tariff_id], ['topup', null]);
    sys.yookassa.pay(row.provider_payment_id);
    // The webhook arrives, and the same success is reported four more times at once.
    await Promise.all(
      [1, 2, 3, 4].map(() =>
        signalProviderState(sys, res.body.payment_id, row.provider_payment_id).catch(() => undefined),
      ),
    );
    assert.equal(await finished(res.body.payment_id), 'COMPLETED');
    const after = await balanceOf(tg);
    assert.equal(after.balance, '500.00');
    assert.deepEqual(
      after.entries.map((e: { amount: string; reason: string; reference: string }) => [
        e.amount,
        e.reason,
        e.reference,
      ]),
      [['500.00', 'topup', res.body.payment_id]],
    );
    const [p] = await sql(`select status from payments where id = ?`, [res.body.payment_id]);
    assert.equal(p.status, 'succeeded');
    const [sub] = await sql(
      `select count(*)::int as n from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ?`,
      [tg],
    );
    assert.equal(sub.n, 0, 'a top-up buys balance, not access');
    await waitFor(
      async () =>
        sys.telegram.messages(tg).some((m) => /topped up by 500/.test(m.text ?? '')) ? true : undefined,
      'the top-up message',
    );
  });

  it('a declined top-up credits nothing, and its Retry starts a new top-up of the same amount', async () => {
    const { tg } = await newUser();
    const res = await create({ telegram_id: tg, purpose: 'topup', amount: '300' });
    const [row] = await sql(`select provider_payment_id from payments where id = ?`, [res.body.payment_id]);
    sys.yookassa.decline(row.provider_payment_id);
    await signalProviderState(sys, res.body.payment_id, row.provider_payment_id);
    await waitFor(
      async () => ((await stage(res.body.payment_id)) === 'CANCELED' ? true : undefined),
      'the decline',
    );
    assert.equal((await balanceOf(tg)).balance, '0.00');
    const got = await api.call('GET', `/api/v1/payments/${res.body.payment_id}`);
    assert.deepEqual([got.status, got.body.tariff_id, got.body.payment_status], [200, null, 'canceled']);
    const retry = await api.call('POST', `/api/v1/payments/${res.body.payment_id}/retry`);
    started.push(retry.body.workflow_id);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.notEqual(retry.body.payment_id, res.body.payment_id);
    assert.deepEqual([retry.body.amount, retry.body.payment_status], ['300.00', 'pending']);
    const [p] = await sql(`select purpose from payments where id = ?`, [retry.body.payment_id]);
    assert.equal(p.purpose, 'topup');
  });

  it('crediting a top-up again (a retried activity) books nothing more', async () => {
    const { tg } = await newUser();
    const res = await create({ telegram_id: tg, purpose: 'topup', amount: '120.50' });
    const [row] = await sql(`select provider_payment_id from payments where id = ?`, [res.body.payment_id]);
    sys.yookassa.pay(row.provider_payment_id);
    await signalProviderState(sys, res.body.payment_id, row.provider_payment_id);
    await finished(res.body.payment_id);
    const activities = createBalanceActivities({ orm: sys.orm, logger: createLogger('test') });
    const again = await activities.creditTopUp({
      paymentId: res.body.payment_id,
      notice: {
        providerPaymentId: row.provider_payment_id,
        status: 'succeeded',
        amount: '120.50',
        currency: 'RUB',
      },
    });
    assert.equal(again.balance, '120.50');
    assert.equal((await balanceOf(tg)).entries.length, 1);
  });

  it('twenty purchases at once against a balance covering three: exactly three are paid, the rest refused', async () => {
    const { tg, userId } = await newUser();
    const [tariff] = await sql(`select price, duration_seconds from tariffs where slug = 'month-1'`);
    const price = Number(tariff.price);
    await credit(userId, (price * 3 + 5).toFixed(2));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        create({ telegram_id: tg, tariff_slug: 'month-1', provider: 'balance' }, `tap-${i}`),
      ),
    );
    const paid = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    assert.equal(paid.length, 3, JSON.stringify(answers.map((a) => [a.status, a.body.error])));
    assert.deepEqual(
      [...new Set(refused.map((a) => `${a.status} ${a.body.error}`))],
      ['409 insufficient_balance'],
    );
    for (const a of paid) {
      assert.deepEqual(
        [a.body.payment_status, a.body.provider, a.body.confirmation_url],
        ['succeeded', 'balance', null],
      );
    }
    for (const a of paid) assert.equal(await finished(a.body.payment_id), 'COMPLETED');
    const now = await balanceOf(tg);
    assert.equal(now.balance, '5.00');
    const debits = now.entries.filter((e: { reason: string }) => e.reason === 'purchase');
    assert.deepEqual(
      debits.map((e: { reference: string }) => e.reference).sort(),
      paid.map((a) => a.body.payment_id).sort(),
    );
    const payments = await sql(
      `select p.status, count(*)::int as n from payments p join users u on u.id = p.user_id where u.telegram_id = ? group by p.status`,
      [tg],
    );
    assert.deepEqual(payments, [{ status: 'succeeded', n: 3 }], 'no payment row for a refused purchase');
    // One access, extended by the two later purchases: three months paid, three months granted.
    const subs = await sql(
      `select s.id, s.client_email, extract(epoch from s.expires_at - s.starts_at)::int as secs
         from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ? and s.status = 'active'`,
      [tg],
    );
    assert.equal(subs.length, 1);
    assert.ok(Math.abs(subs[0].secs - 3 * tariff.duration_seconds) < 60, `granted ${subs[0].secs}s`);
    assert.ok((await sys.nodeClients()).includes(subs[0].client_email), 'the key is on the real node');

    // The same tap again (Telegram redelivers it): the same payment, no second debit.
    const again = await create({ telegram_id: tg, tariff_slug: 'month-1', provider: 'balance' }, 'tap-0');
    const first = answers[0];
    assert.equal(again.status, first.status);
    if (first.status === 201) assert.equal(again.body.payment_id, first.body.payment_id);
    assert.equal((await balanceOf(tg)).balance, '5.00');
  });

  it('a balance purchase that cannot be provisioned goes back to the balance, once', async () => {
    const { tg, userId } = await newUser();
    await credit(userId, '300.00');
    // A tariff for a location no node serves: provisioning gives up after NODE_WAIT_LIMIT and refunds.
    await sys.createTariff('nowhere-1', 30 * 86_400, { price: '120.00', location: 'atlantis' });
    const impatient = await startApiOnSystem(sys, { NODE_WAIT_LIMIT: '1s' });
    try {
      const res = await impatient.call('POST', '/api/v1/payments/create', {
        body: { telegram_id: tg, tariff_slug: 'nowhere-1', provider: 'balance' },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      started.push(res.body.workflow_id);
      assert.equal(await finished(res.body.payment_id), 'REFUNDED');
    } finally {
      await impatient.close();
    }
    const now = await balanceOf(tg);
    assert.equal(now.balance, '300.00', 'the debit came back');
    assert.deepEqual(
      now.entries.map((e: { amount: string; reason: string }) => [e.amount, e.reason]),
      [
        ['120.00', 'refund'],
        ['-120.00', 'purchase'],
        ['300.00', 'adjustment'],
      ],
    );
    const [p] = await sql(
      `select p.status, p.refunded_amount from payments p join users u on u.id = p.user_id where u.telegram_id = ?`,
      [tg],
    );
    assert.deepEqual([p.status, p.refunded_amount], ['refunded', '120.00']);
  });

  it('the database refuses an overdraft and any edit of the ledger', async () => {
    const { userId } = await newUser();
    await credit(userId, '10.00');
    await assert.rejects(credit(userId, '-10.01'), /balances_not_negative/);
    await assert.rejects(
      sql(`update balance_entries set amount = 1000 where user_id = ?`, [userId]),
      /append-only/,
    );
    await assert.rejects(sql(`delete from balance_entries where user_id = ?`, [userId]), /append-only/);
    const [b] = await sql(`select balance from balances where user_id = ?`, [userId]);
    assert.equal(b.balance, '10.00');
  });

  it('refuses bad top-ups with a clear 422, and an unknown user with 404', async () => {
    const { tg } = await newUser();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ purpose: 'topup' }, 'amount'],
      [{ purpose: 'topup', amount: '5' }, 'amount'],
      [{ purpose: 'topup', amount: '-50' }, 'amount'],
      [{ purpose: 'topup', amount: '100', provider: 'balance' }, 'provider'],
      [{ purpose: 'topup', amount: '5', provider: 'stars' }, 'amount'],
      // 20 000 RUB at 1.5 RUB per Star is 13 334 Stars: over one invoice's cap.
      [{ purpose: 'topup', amount: '20000', provider: 'stars' }, 'at most 10000 Stars'],
      [{ tariff_slug: 'month-1', amount: '100' }, 'amount'],
    ];
    for (const [body, field] of cases) {
      const res = await create({ telegram_id: tg, ...body });
      assert.equal(res.status, 422, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(JSON.stringify(res.body).includes(field), JSON.stringify(res.body));
    }
    assert.equal((await api.call('GET', '/api/v1/users/1234567/balance')).status, 404);
  });

  it('a Stars top-up charges the Stars quoted for the roubles asked (rounded up), credits those roubles once, and its refund takes them back', async () => {
    const { tg } = await newUser();
    const res = await create({ telegram_id: tg, purpose: 'topup', amount: '100', provider: 'stars' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    // 100 RUB at 1.5 RUB per Star: 66.67 Stars, so 67.
    assert.deepEqual(
      [res.body.amount, res.body.currency, res.body.provider, res.body.confirmation_url],
      ['67.00', 'XTR', 'stars', null],
    );
    assert.deepEqual([res.body.credit_amount, res.body.credit_currency], ['100.00', 'RUB']);
    const paymentId = res.body.payment_id;
    const chargeId = `topup-charge-${tg}`;
    sys.telegram.injectSuccessfulPayment({
      from: tg,
      payload: paymentId,
      total_amount: 67,
      telegram_payment_charge_id: chargeId,
    });
    // The bot forwards successful_payment, and Telegram's redelivery is forwarded again.
    const confirm = () =>
      api.call('POST', '/api/v1/payments/stars/confirm', {
        body: { telegram_id: tg, payload: paymentId, telegram_payment_charge_id: chargeId, total_amount: 67 },
      });
    const answers = await Promise.all([confirm(), confirm()]);
    assert.ok(
      answers.every((a) => [200, 409].includes(a.status)),
      JSON.stringify(answers.map((a) => a.body)),
    );
    assert.equal(await finished(paymentId), 'COMPLETED');
    const after = await balanceOf(tg);
    assert.equal(after.balance, '100.00');
    assert.deepEqual(
      after.entries.map((e: { amount: string; reason: string }) => [e.amount, e.reason]),
      [['100.00', 'topup']],
    );
    const [row] = await sql(
      `select status, amount, currency, credit_amount, credit_currency, telegram_payment_charge_id from payments where id = ?`,
      [paymentId],
    );
    assert.deepEqual(
      [
        row.status,
        String(row.amount),
        row.currency,
        String(row.credit_amount),
        row.telegram_payment_charge_id,
      ],
      ['succeeded', '67.00', 'XTR', '100.00', chargeId],
    );
    await waitFor(
      async () =>
        sys.telegram.messages(tg).some((m) => /topped up by 100/.test(m.text ?? '')) ? true : undefined,
      'the top-up message',
    );

    // The operator refunds it: the Stars go back whole at Telegram, the 100 RUB come off the balance.
    const refund = await api.call('POST', `/api/v1/admin/payments/${paymentId}/refund`, {
      token: ADMIN_TOKEN,
      body: { reason: 'asked by the user' },
    });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    assert.deepEqual(
      [refund.body.amount, refund.body.currency, refund.body.to],
      ['67.00', 'XTR', 'provider'],
    );
    await waitFor(
      async () =>
        sys.telegram
          .calls('refundStarPayment')
          .some((c) => c.params.telegram_payment_charge_id === chargeId && !c.error)
          ? true
          : undefined,
      'the Stars refund at Telegram',
    );
    const back = await balanceOf(tg);
    assert.equal(back.balance, '0.00');
    assert.deepEqual(back.entries[0].amount, '-100.00');
  });

  it('top-ups by Stars are refused with a clear 422 while TOPUP_STAR_RATE is unset', async () => {
    const cardOnly = await startApiOnSystem(sys);
    try {
      const { tg } = await newUser();
      const res = await cardOnly.call('POST', '/api/v1/payments/create', {
        body: { telegram_id: tg, purpose: 'topup', amount: '100', provider: 'stars' },
      });
      assert.deepEqual([res.status, res.body.field], [422, 'provider']);
      assert.match(res.body.message, /Stars are off/);
      assert.equal((await cardOnly.call('GET', `/api/v1/users/${tg}/balance`)).body.topup_star_rate, null);
    } finally {
      await cardOnly.close();
    }
  });
});
