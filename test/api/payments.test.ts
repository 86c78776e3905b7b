import assert from 'node:assert/strict';
import { purchaseWorkflowId, starsRefundWorkflowId } from '../../workflows/purchase-messages';
import {
  insertNode,
  insertPayment,
  insertSubscription,
  insertTariff,
  insertUser,
  parkPurchase,
  signalsOf,
  uniqueTelegramId,
} from './fixtures';
import { refuseOtherLocation } from '../../api/location-check';
import { type ApiHarness, metricValue, startApi } from './harness';

const CONFIRM = '/api/v1/payments/stars/confirm';

describe('api: payments without a worker (validation, lookups, Stars confirmation)', () => {
  let api: ApiHarness;
  let tg: number;
  let user: Record<string, string>;
  let tariff: Record<string, number>;
  before(async () => {
    api = await startApi();
    tg = uniqueTelegramId();
    user = await insertUser(api.orm, tg);
    tariff = await insertTariff(api.orm, { starPrice: 100 });
  });
  after(() => api.close());

  it('create: 404 for an unknown user, unknown or inactive tariff; 422 for Stars without a star price; 503 without YooKassa', async () => {
    const other = await insertTariff(api.orm, { active: false });
    const noStars = await insertTariff(api.orm, { starPrice: null });
    const create = (body: Record<string, unknown>) => api.call('POST', '/api/v1/payments/create', { body });
    assert.deepEqual((await create({ telegram_id: 1, tariff_id: tariff.id })).body.error, 'user_not_found');
    const unknown = await create({ telegram_id: tg, tariff_slug: 'nope' });
    assert.deepEqual([unknown.status, unknown.body.error], [404, 'tariff_not_found']);
    assert.equal((await create({ telegram_id: tg, tariff_id: other.id })).status, 404);
    const stars = await create({ telegram_id: tg, tariff_id: noStars.id, provider: 'stars' });
    assert.deepEqual([stars.status, stars.body.field], [422, 'provider']);
    const card = await create({ telegram_id: tg, tariff_id: tariff.id, provider: 'yookassa' });
    assert.deepEqual([card.status, card.body.error], [503, 'payment_provider_unavailable']);
  });

  it('GET /payments/:id returns the payment; 404 when unknown; retry 404s too', async () => {
    const p = await insertPayment(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      provider: 'stars',
      amount: '100.00',
    });
    const res = await api.call('GET', `/api/v1/payments/${p.id}`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      { ...res.body, created_at: undefined, expires_at: undefined },
      {
        payment_id: p.id,
        telegram_id: tg,
        provider: 'stars',
        payment_status: 'pending',
        amount: '100.00',
        currency: 'XTR',
        tariff_id: tariff.id,
        created_at: undefined,
        expires_at: undefined,
      },
    );
    const unknown = '00000000-0000-4000-8000-000000000000';
    assert.equal((await api.call('GET', `/api/v1/payments/${unknown}`)).status, 404);
    assert.equal((await api.call('POST', `/api/v1/payments/${unknown}/retry`)).status, 404);
  });

  it('create and retry: 409 location_mismatch for another location’s tariff while an access runs (one access per user)', async () => {
    const tgNl = uniqueTelegramId();
    const nlUser = await insertUser(api.orm, tgNl);
    const node = await insertNode(api.orm); // location "nl"
    await insertSubscription(api.orm, {
      userId: nlUser.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    const de = await insertTariff(api.orm);
    const conn = api.orm.em.getConnection();
    await conn.execute(`update tariffs set location = 'de' where id = ?`, [de.id]);
    const res = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tgNl, tariff_id: de.id, provider: 'stars' },
    });
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(res.body.error, 'location_mismatch');
    assert.match(res.body.message, /nl/);
    const old = await insertPayment(api.orm, { userId: nlUser.id, tariffId: de.id, status: 'canceled' });
    const retry = await api.call('POST', `/api/v1/payments/${old.id}/retry`);
    assert.deepEqual([retry.status, retry.body.error], [409, 'location_mismatch']);
    const [nl] = await conn.execute(`update tariffs set location = 'NL' where id = ? returning *`, [de.id]);
    await refuseOtherLocation(api.orm, nlUser, nl); // the same location (any case) renews
    await refuseOtherLocation(api.orm, nlUser, { ...nl, location: null }); // "any location" renews
    const [count] = await conn.execute(`select count(*)::int as n from payments where user_id = ?`, [
      nlUser.id,
    ]);
    assert.equal(count.n, 1, 'refused before any payment was created');
  });

  it('stars confirm: 404 unknown payload; 422 for another provider, user or amount, with no signal and a metric', async () => {
    const p = await insertPayment(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      provider: 'stars',
      amount: '100.00',
    });
    const card = await insertPayment(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      providerPaymentId: 'yk-1',
    });
    const handle = await parkPurchase(api.temporal, { paymentId: p.id });
    const confirm = (body: Record<string, unknown>) =>
      api.call('POST', CONFIRM, {
        body: {
          telegram_id: tg,
          payload: p.id,
          telegram_payment_charge_id: 'charge-1',
          total_amount: 100,
          ...body,
        },
      });

    const unknown = await confirm({ payload: 'not-ours' });
    assert.deepEqual([unknown.status, unknown.body.field], [404, 'payload']);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ payload: card.id }, 'payload'],
      [{ telegram_id: tg + 1 }, 'telegram_id'],
      [{ total_amount: 99 }, 'total_amount'],
    ];
    for (const [body, field] of cases) {
      const res = await confirm(body);
      assert.deepEqual([res.status, res.body.field], [422, field], JSON.stringify(body));
    }
    assert.deepEqual(await signalsOf(api.temporal, purchaseWorkflowId(p.id)), []);
    const [row] = await api.orm.em
      .getConnection()
      .execute(`select telegram_payment_charge_id from payments where id = ?`, [p.id]);
    assert.equal(row.telegram_payment_charge_id, null, 'nothing recorded for a refused confirmation');
    const text = await api.metrics.registry.metrics();
    assert.equal(metricValue(text, 'stars_confirm_rejections_total{reason="amount_mismatch"}'), 1);
    assert.ok(api.logs.some((l) => l.level === 50 && String(l.msg).includes('stars payment refused')));

    const ok = await confirm({});
    assert.deepEqual([ok.status, ok.body], [200, { status: 'accepted' }]);
    const signals = await signalsOf(api.temporal, purchaseWorkflowId(p.id));
    assert.deepEqual(
      signals.map((s) => s.args[0]),
      [
        {
          providerPaymentId: p.id,
          status: 'succeeded',
          amount: '100.00',
          currency: 'XTR',
          telegramChargeId: 'charge-1',
        },
      ],
    );
    // Unverified claims are the workflow's to check with Telegram: a second one is handed over too.
    const second = await confirm({ telegram_payment_charge_id: 'charge-2' });
    assert.deepEqual([second.status, second.body], [200, { status: 'accepted' }]);
    assert.equal((await signalsOf(api.temporal, purchaseWorkflowId(p.id))).length, 2);
    await handle.terminate();
  });

  it('stars confirm for a payment already paid by another (verified) charge: 409 and that charge is refunded', async () => {
    const p = await insertPayment(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      provider: 'stars',
      amount: '100.00',
      status: 'succeeded',
    });
    await api.orm.em
      .getConnection()
      .execute(`update payments set telegram_payment_charge_id = 'charge-paid' where id = ?`, [p.id]);
    const res = await api.call('POST', CONFIRM, {
      body: { telegram_id: tg, payload: p.id, telegram_payment_charge_id: 'charge-extra', total_amount: 100 },
    });
    assert.deepEqual([res.status, res.body.error], [409, 'already_paid']);
    const refund = await api.temporal.workflow.getHandle(starsRefundWorkflowId('charge-extra')).describe();
    assert.equal(refund.type, 'starsRefundWorkflow');
    await api.temporal.workflow.getHandle(starsRefundWorkflowId('charge-extra')).terminate();
  });

  it('stars confirm after the workflow is gone: 200 refunding, a stars-refund workflow per charge, metric', async () => {
    const p = await insertPayment(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      provider: 'stars',
      amount: '100.00',
    });
    const confirm = () =>
      api.call('POST', CONFIRM, {
        body: {
          telegram_id: String(tg),
          payload: p.id,
          telegram_payment_charge_id: 'charge-orphan',
          total_amount: 100,
        },
      });
    const res = await confirm();
    assert.deepEqual([res.status, res.body], [200, { status: 'refunding' }]);
    assert.equal((await confirm()).status, 200, 'reported twice: the same refund workflow');
    const refund = api.temporal.workflow.getHandle(starsRefundWorkflowId('charge-orphan'));
    const described = await refund.describe();
    assert.equal(described.type, 'starsRefundWorkflow');
    assert.ok(api.logs.some((l) => String(l.msg).includes('refunding the charge')));
    assert.ok(
      (metricValue(await api.metrics.registry.metrics(), 'payments_orphaned_total{provider="stars"}') ?? 0) >=
        2,
    );
    await refund.terminate();
  });
});
