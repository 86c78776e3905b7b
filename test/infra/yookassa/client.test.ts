import assert from 'node:assert/strict';
import {
  createYooKassaClient,
  isRetryable,
  toAmountString,
  type YooKassaClient,
  YooKassaRejectedError,
  YooKassaUnavailableError,
} from '../../../infra/yookassa/client';
import { startYooKassaEmulator, type YooKassaEmulator } from '../../../infra/yookassa/emulator';
import { DEFAULT_FAULTS } from '../../../infra/yookassa/emulator-faults';

const SHOP_ID = '100500';
const SECRET = 'test_Fh8hUAVVBGUGbjmlzba6TB0iyUbos_lueTHE-axOwM0';
const RETURN_URL = 'http://127.0.0.1:9/return';

describe('YooKassa client (against the emulator)', () => {
  let emulator: YooKassaEmulator;
  let client: YooKassaClient;
  let keySeq = 0;
  const key = () => `test-${process.pid}-${++keySeq}`;
  const paymentInput = (idempotenceKey: string, amount = '299.00') => ({
    idempotenceKey,
    amount,
    currency: 'RUB',
    description: 'VPN: 30 days',
    metadata: { purchase_id: idempotenceKey, telegram_id: '42' },
  });

  before(async () => {
    emulator = await startYooKassaEmulator({ shopId: SHOP_ID, secretKey: SECRET });
    client = createYooKassaClient({
      apiUrl: emulator.url,
      shopId: SHOP_ID,
      secretKey: SECRET,
      returnUrl: RETURN_URL,
      timeoutMs: 300,
    });
  });
  after(() => emulator.close());
  afterEach(() => Object.assign(emulator.faults, DEFAULT_FAULTS));

  it('creates a redirect payment and reads it back', async () => {
    const created = await client.createPayment(paymentInput(key()));
    assert.match(created.id, /^[0-9a-f]{8}-000f-5000-[89ab]000-[0-9a-f]{12}$/);
    assert.equal(created.status, 'pending');
    assert.equal(created.paid, false);
    assert.equal(created.test, true);
    assert.deepEqual(created.amount, { value: '299.00', currency: 'RUB' });
    assert.equal(created.confirmation?.confirmation_url, `${emulator.origin}/checkout/${created.id}`);
    assert.equal(created.metadata?.telegram_id, '42');

    const read = await client.getPayment(created.id);
    assert.deepEqual(read, created);
  });

  it('normalises the amount and attaches a 54-FZ receipt when configured', async () => {
    const withReceipt = createYooKassaClient({
      apiUrl: emulator.url,
      shopId: SHOP_ID,
      secretKey: SECRET,
      returnUrl: RETURN_URL,
      receipt: { vatCode: 1 },
    });
    const payment = await withReceipt.createPayment({
      ...paymentInput(key(), '99.5'),
      receiptEmail: 'a@b.ru',
    });
    assert.equal(payment.amount.value, '99.50');
    assert.equal(payment.receipt_registration, 'pending');
  });

  it('a retry after a 500 with the same key creates one payment', async () => {
    const k = key();
    const before = emulator.payments().length;
    emulator.faults.failNext500 = 1;
    const err = await client.createPayment(paymentInput(k)).catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaUnavailableError);
    assert.equal(err.status, 500);
    assert.equal(err.code, 'internal_server_error');
    assert.equal(isRetryable(err), true);
    assert.equal(emulator.payments().length, before, 'nothing was done before the 500');

    const payment = await client.createPayment(paymentInput(k));
    assert.equal(emulator.payments().length, before + 1);
    assert.equal((await client.createPayment(paymentInput(k))).id, payment.id);
    assert.equal(emulator.payments().length, before + 1);
  });

  it('a retry after an "applied, then 500" answer returns the payment that was created', async () => {
    const k = key();
    const before = emulator.payments().length;
    emulator.faults.failNextAfterCommit = 1;
    await assert.rejects(client.createPayment(paymentInput(k)), (e) => isRetryable(e));
    assert.equal(emulator.payments().length, before + 1, 'the payment exists although the answer was 500');

    const payment = await client.createPayment(paymentInput(k));
    assert.equal(payment.id, emulator.payments().at(-1)!.id);
    assert.equal(emulator.payments().length, before + 1);
  });

  it('the same key with another body is rejected with code and parameter', async () => {
    const k = key();
    await client.createPayment(paymentInput(k, '299.00'));
    const err = await client.createPayment(paymentInput(k, '199.00')).catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaRejectedError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_request');
    assert.equal(err.parameter, 'Idempotence-Key');
    assert.ok(err.description);
    assert.equal(isRetryable(err), false);
  });

  it('reports a validation error with the parameter YooKassa names', async () => {
    const err = await client
      .createPayment({ ...paymentInput(key()), description: 'x'.repeat(129) })
      .catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaRejectedError);
    assert.equal(err.parameter, 'description');
  });

  it('maps 401 to a non-retryable rejection and keeps the secret out of the message', async () => {
    const wrong = createYooKassaClient({
      apiUrl: emulator.url,
      shopId: SHOP_ID,
      secretKey: 'nope',
      returnUrl: RETURN_URL,
    });
    const err = await wrong.getPayment('whatever').catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaRejectedError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_credentials');
    assert.equal(isRetryable(err), false);
    const leaky = createYooKassaClient({
      apiUrl: emulator.url,
      shopId: 'x',
      secretKey: SECRET,
      returnUrl: RETURN_URL,
    });
    const leakErr = (await leaky.getPayment('whatever').catch((e: unknown) => e)) as Error;
    assert.ok(!leakErr.message.includes(SECRET));
  });

  it('maps 429 to a retryable error', async () => {
    emulator.faults.rateLimitNext = 1;
    const err = await client.createPayment(paymentInput(key())).catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaUnavailableError);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'too_many_requests');
    assert.equal(isRetryable(err), true);
  });

  it('maps a timeout to a retryable error, and the retry creates one payment', async () => {
    const k = key();
    const before = emulator.payments().length;
    emulator.faults.timeoutNext = 1;
    emulator.faults.hangMs = 5_000;
    const started = Date.now();
    const err = await client.createPayment(paymentInput(k)).catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaUnavailableError);
    assert.equal(err.timedOut, true);
    assert.ok(Date.now() - started < 2_000, 'the client gave up at its own timeout');
    await client.createPayment(paymentInput(k));
    await client.createPayment(paymentInput(k));
    assert.equal(emulator.payments().length, before + 1);
  });

  it('maps a refused connection to a retryable error', async () => {
    const dead = createYooKassaClient({
      apiUrl: 'http://127.0.0.1:1/v3',
      shopId: SHOP_ID,
      secretKey: SECRET,
      returnUrl: RETURN_URL,
    });
    const err = await dead.getPayment('x').catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaUnavailableError);
    assert.equal(err.status, undefined);
    assert.equal(isRetryable(err), true);
  });

  it('returns 404 for an unknown payment as a rejection', async () => {
    const err = await client.getPayment('2d9a0000-000f-5000-9000-000000000000').catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaRejectedError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'not_found');
  });

  it('cancels a payment waiting for capture; a pending one is not cancellable', async () => {
    const pending = await client.createPayment(paymentInput(key()));
    const refused = await client.cancelPayment(pending.id, key()).catch((e: unknown) => e);
    assert.ok(refused instanceof YooKassaRejectedError);
    assert.equal(refused.code, 'invalid_request');

    const twoStage = await createTwoStagePayment(emulator, key());
    emulator.pay(twoStage.id);
    assert.equal((await client.getPayment(twoStage.id)).status, 'waiting_for_capture');
    const k = key();
    const canceled = await client.cancelPayment(twoStage.id, k);
    assert.equal(canceled.status, 'canceled');
    assert.deepEqual(canceled.cancellation_details, { party: 'merchant', reason: 'canceled_by_merchant' });
    assert.deepEqual(await client.cancelPayment(twoStage.id, k), canceled, 'same key replays the answer');
  });

  it('refunds a payment in full and rejects a refund over the remaining amount', async () => {
    const payment = await client.createPayment(paymentInput(key(), '150.00'));
    const early = await client
      .createRefund({ idempotenceKey: key(), paymentId: payment.id, amount: '150.00', currency: 'RUB' })
      .catch((e: unknown) => e);
    assert.ok(early instanceof YooKassaRejectedError, 'a pending payment cannot be refunded');
    emulator.pay(payment.id);

    const k = key();
    const refund = await client.createRefund({
      idempotenceKey: k,
      paymentId: payment.id,
      amount: '150',
      currency: 'RUB',
    });
    assert.equal(refund.status, 'succeeded');
    assert.equal(refund.payment_id, payment.id);
    assert.deepEqual(refund.amount, { value: '150.00', currency: 'RUB' });
    assert.deepEqual(await client.getRefund(refund.id), refund);
    const again = await client.createRefund({
      idempotenceKey: k,
      paymentId: payment.id,
      amount: '150.00',
      currency: 'RUB',
    });
    assert.equal(again.id, refund.id, 'a retried refund is the same refund');

    const after = await client.getPayment(payment.id);
    assert.deepEqual(after.refunded_amount, { value: '150.00', currency: 'RUB' });
    assert.equal(after.refundable, false);

    const over = await client
      .createRefund({ idempotenceKey: key(), paymentId: payment.id, amount: '0.01', currency: 'RUB' })
      .catch((e: unknown) => e);
    assert.ok(over instanceof YooKassaRejectedError);
    assert.equal(over.parameter, 'amount.value');
    assert.equal(emulator.refunds().filter((r) => r.payment_id === payment.id).length, 1);
  });

  it('refuses to send an idempotence key YooKassa would reject', async () => {
    await assert.rejects(client.createPayment(paymentInput('k'.repeat(65))), RangeError);
    await assert.rejects(client.createPayment(paymentInput('')), RangeError);
  });
});

describe('toAmountString', () => {
  it('normalises decimal strings to two digits', () => {
    assert.equal(toAmountString('299'), '299.00');
    assert.equal(toAmountString('299.5'), '299.50');
    assert.equal(toAmountString('0299.00'), '299.00');
    assert.equal(toAmountString('0.10'), '0.10');
  });

  it('refuses anything that is not a plain non-negative decimal', () => {
    for (const bad of ['299.005', '-1.00', '1e3', '', 'abc', '1,00', ' . ']) {
      assert.throws(() => toAmountString(bad), RangeError, bad);
    }
    assert.throws(() => toAmountString(299.99 as unknown as string), RangeError);
  });
});

async function createTwoStagePayment(
  emulator: YooKassaEmulator,
  idempotenceKey: string,
): Promise<{ id: string }> {
  const res = await fetch(`${emulator.url}/payments`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${SHOP_ID}:${SECRET}`).toString('base64')}`,
      'content-type': 'application/json',
      'idempotence-key': idempotenceKey,
    },
    body: JSON.stringify({
      amount: { value: '10.00', currency: 'RUB' },
      capture: false,
      confirmation: { type: 'redirect', return_url: RETURN_URL },
    }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { id: string };
}
