import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { startYooKassaEmulator, type YooKassaEmulator } from '../../../infra/yookassa/emulator';
import { DEFAULT_FAULTS } from '../../../infra/yookassa/emulator-faults';
import type { Notification, Payment } from '../../../infra/yookassa/types';

const SHOP_ID = '100500';
const SECRET = 'test_secret_key';
const AUTH = `Basic ${Buffer.from(`${SHOP_ID}:${SECRET}`).toString('base64')}`;
const RETURN_URL = 'https://shop.example/return?order=1';

/** A shop's webhook endpoint: records what arrives and answers the scripted statuses (then 200). */
async function startReceiver() {
  const received: { body: Notification; from: string | undefined }[] = [];
  const script: number[] = [];
  const app = express();
  app.use(express.json());
  app.post('/hook', (req, res) => {
    received.push({ body: req.body, from: req.socket.remoteAddress });
    res.status(script.shift() ?? 200).end();
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url, received, script, close, server };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function api(emulator: YooKassaEmulator, method: string, path: string, body?: unknown, key?: string) {
  const headers: Record<string, string> = { authorization: AUTH };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['idempotence-key'] = key;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const res = await fetch(`${emulator.url}${path}`, { method, headers, body: payload });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

let seq = 0;
const newKey = () => `emu-${process.pid}-${++seq}`;

async function createPayment(
  emulator: YooKassaEmulator,
  extra: Record<string, unknown> = {},
): Promise<Payment> {
  const body = {
    amount: { value: '299.00', currency: 'RUB' },
    capture: true,
    confirmation: { type: 'redirect', return_url: RETURN_URL },
    description: 'VPN 30 days',
    metadata: { purchase_id: 'p1' },
    ...extra,
  };
  const res = await api(emulator, 'POST', '/payments', body, newKey());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as unknown as Payment;
}

describe('YooKassa emulator', () => {
  let emulator: YooKassaEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver();
    emulator = await startYooKassaEmulator({
      shopId: SHOP_ID,
      secretKey: SECRET,
      webhookUrl: receiver.url,
      webhookRetry: { initialDelayMs: 20, maxDelayMs: 40, maxAttempts: 4 },
    });
  });
  after(async () => {
    await emulator.close();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.script.length = 0;
    Object.assign(emulator.faults, DEFAULT_FAULTS);
    emulator.setWebhookUrl(receiver.url);
  });

  it('notifies payment.succeeded from 127.0.0.1 with the full payment object', async () => {
    const payment = await createPayment(emulator);
    emulator.pay(payment.id);
    await waitFor(() => receiver.received.length === 1, 'the notification');
    const { body, from } = receiver.received[0]!;
    assert.equal(from, '127.0.0.1');
    assert.equal(body.type, 'notification');
    assert.equal(body.event, 'payment.succeeded');
    const object = body.object as Payment;
    assert.equal(object.id, payment.id);
    assert.equal(object.status, 'succeeded');
    assert.equal(object.paid, true);
    assert.equal(object.metadata?.purchase_id, 'p1');
    assert.ok(object.captured_at);
  });

  it('redelivers with backoff until the shop answers 200', async () => {
    receiver.script.push(500, 503, 404);
    const payment = await createPayment(emulator);
    emulator.pay(payment.id);
    const attempts = () => emulator.deliveries().filter((d) => d.objectId === payment.id);
    await waitFor(() => attempts().length === 4, 'four recorded attempts');
    assert.deepEqual(
      attempts().map((d) => [d.attempt, d.outcome, d.status]),
      [
        [1, 'failed', 500],
        [2, 'failed', 503],
        [3, 'failed', 404],
        [4, 'delivered', 200],
      ],
    );
    assert.equal(new Set(attempts().map((d) => d.notificationId)).size, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(receiver.received.length, 4, 'nothing after the 200');
  });

  it('gives up after the configured number of attempts', async () => {
    receiver.script.push(500, 500, 500, 500, 500, 500);
    const payment = await createPayment(emulator);
    emulator.pay(payment.id);
    await waitFor(() => receiver.received.length === 4, 'four attempts');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(receiver.received.length, 4);
  });

  it('loses notifications while dropWebhooks is on', async () => {
    emulator.faults.dropWebhooks = true;
    const payment = await createPayment(emulator);
    emulator.pay(payment.id);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(receiver.received.length, 0);
    assert.equal(emulator.deliveries().find((d) => d.objectId === payment.id)?.outcome, 'dropped');
    assert.equal(emulator.payment(payment.id).status, 'succeeded', 'the payment itself went through');
  });

  it('checkout page: Pay flips the status, redirects to return_url and notifies', async () => {
    const payment = await createPayment(emulator);
    const pageUrl = payment.confirmation!.confirmation_url!;
    const page = await fetch(pageUrl);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /299\.00 RUB/);
    assert.match(html, new RegExp(`action="/checkout/${payment.id}/pay"`));
    assert.match(html, /<option value="insufficient_funds">/);

    const res = await fetch(`${pageUrl}/pay`, { method: 'POST', redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), RETURN_URL);
    const after = await api(emulator, 'GET', `/payments/${payment.id}`);
    assert.equal(after.body.status, 'succeeded');
    assert.equal(after.body.confirmation, undefined);
    await waitFor(() => receiver.received.length === 1, 'the notification');
    assert.equal(receiver.received[0]!.body.event, 'payment.succeeded');

    const again = await fetch(`${pageUrl}/pay`, { method: 'POST', redirect: 'manual' });
    assert.equal(again.status, 400, 'a paid payment cannot be paid twice');
  });

  it('checkout page: Decline with a reason cancels with cancellation_details and notifies', async () => {
    const payment = await createPayment(emulator);
    const res = await fetch(`${payment.confirmation!.confirmation_url}/decline`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'reason=insufficient_funds',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), RETURN_URL);
    const after = (await api(emulator, 'GET', `/payments/${payment.id}`)).body as unknown as Payment;
    assert.equal(after.status, 'canceled');
    assert.equal(after.paid, false);
    assert.deepEqual(after.cancellation_details, { party: 'payment_network', reason: 'insufficient_funds' });
    await waitFor(() => receiver.received.length === 1, 'the notification');
    assert.equal(receiver.received[0]!.body.event, 'payment.canceled');
    assert.deepEqual(
      (receiver.received[0]!.body.object as Payment).cancellation_details,
      after.cancellation_details,
    );
  });

  it('two-stage payment: waiting_for_capture with expires_at, then capture → succeeded', async () => {
    const payment = await createPayment(emulator, { capture: false });
    const held = emulator.pay(payment.id);
    assert.equal(held.status, 'waiting_for_capture');
    assert.equal(held.paid, true);
    assert.ok(held.expires_at && Date.parse(held.expires_at) > Date.now());
    const captured = await api(emulator, 'POST', `/payments/${payment.id}/capture`, {}, newKey());
    assert.equal(captured.body.status, 'succeeded');
    await waitFor(() => receiver.received.length === 2, 'two notifications');
    assert.deepEqual(
      receiver.received.map((r) => r.body.event),
      ['payment.waiting_for_capture', 'payment.succeeded'],
    );
  });

  it('notifies refund.succeeded with the refund object', async () => {
    const payment = await createPayment(emulator);
    emulator.pay(payment.id);
    const refund = await api(
      emulator,
      'POST',
      '/refunds',
      { payment_id: payment.id, amount: { value: '99.00', currency: 'RUB' } },
      newKey(),
    );
    assert.equal(refund.status, 200);
    await waitFor(
      () => receiver.received.some((r) => r.body.event === 'refund.succeeded'),
      'the refund notification',
    );
    const note = receiver.received.find((r) => r.body.event === 'refund.succeeded')!;
    assert.equal(note.body.object.id, refund.body.id);
    assert.equal(
      (await api(emulator, 'GET', `/payments/${payment.id}`)).body.refundable,
      true,
      '200.00 left',
    );
  });

  it('requires Basic auth and an Idempotence-Key, and answers YooKassa error bodies', async () => {
    const anonymous = await fetch(`${emulator.url}/payments/x`);
    assert.equal(anonymous.status, 401);
    const body = (await anonymous.json()) as Record<string, unknown>;
    assert.equal(body.type, 'error');
    assert.equal(body.code, 'invalid_credentials');
    assert.equal(typeof body.id, 'string');

    const noKey = await api(emulator, 'POST', '/payments', { amount: { value: '1.00', currency: 'RUB' } });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.parameter, 'Idempotence-Key');

    const wrongType = await fetch(`${emulator.url}/payments`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'text/plain', 'idempotence-key': newKey() },
      body: 'amount=1',
    });
    assert.equal(wrongType.status, 415);

    const badAmount = await api(
      emulator,
      'POST',
      '/payments',
      { amount: { value: 1, currency: 'RUB' } },
      newKey(),
    );
    assert.equal(badAmount.body.parameter, 'amount.value');
    const tooMuchMetadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const badMeta = await createPaymentRaw(emulator, { metadata: tooMuchMetadata });
    assert.equal(badMeta.body.parameter, 'metadata');
  });

  it('expires an unpaid payment with expired_on_confirmation', async () => {
    const payment = await createPayment(emulator);
    const expired = emulator.expire(payment.id);
    assert.deepEqual(expired.cancellation_details, { party: 'yoo_money', reason: 'expired_on_confirmation' });
    await waitFor(() => receiver.received.length === 1, 'the notification');
    assert.equal(receiver.received[0]!.body.event, 'payment.canceled');
  });

  it('is driven over HTTP through /__emulator/', async () => {
    const admin = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${emulator.origin}/__emulator${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    assert.equal((await admin('/faults', 'POST', { failNext500: 1 })).status, 200);
    assert.equal((await api(emulator, 'GET', '/payments/x')).status, 500);
    assert.equal((await admin('/faults', 'POST', { failNext500: 'many' })).status, 400);

    const payment = await createPayment(emulator);
    const declined = await admin(`/payments/${payment.id}/decline`, 'POST', { reason: 'card_expired' });
    assert.equal(((await declined.json()) as Payment).cancellation_details?.reason, 'card_expired');
    assert.equal((await admin(`/payments/${payment.id}/pay`, 'POST')).status, 400);

    assert.equal((await admin('/webhook-url', 'PUT', { url: null })).status, 200);
    const quiet = await createPayment(emulator);
    await admin(`/payments/${quiet.id}/pay`, 'POST');
    const listed = (await (await admin('/payments')).json()) as Payment[];
    assert.equal(listed.find((p) => p.id === quiet.id)?.status, 'succeeded');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!receiver.received.some((r) => r.body.object.id === quiet.id), 'no URL, no notification');
  });

  it('fiscalisation switched on over HTTP: a create without a receipt gets 400 parameter receipt', async () => {
    const admin = (on: unknown) =>
      fetch(`${emulator.origin}/__emulator/fiscalisation`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ on }),
      });
    assert.equal((await admin('yes')).status, 400);
    assert.equal((await admin(true)).status, 200);
    try {
      const refused = await createPaymentRaw(emulator, {});
      assert.deepEqual(
        [refused.status, refused.body.code, refused.body.parameter],
        [400, 'invalid_request', 'receipt'],
      );
    } finally {
      await admin(false);
    }
    assert.equal((await createPaymentRaw(emulator, {})).status, 200);
  });
});

describe('YooKassa emulator deadlines', () => {
  it('cancels a pending payment by itself after pendingTtlMs', async () => {
    const emulator = await startYooKassaEmulator({ shopId: SHOP_ID, secretKey: SECRET, pendingTtlMs: 50 });
    try {
      const payment = await createPayment(emulator);
      await waitFor(() => emulator.payment(payment.id).status === 'canceled', 'the expiry');
      assert.equal(emulator.payment(payment.id).cancellation_details?.reason, 'expired_on_confirmation');
    } finally {
      await emulator.close();
    }
  });
});

function createPaymentRaw(emulator: YooKassaEmulator, extra: Record<string, unknown>) {
  const body = {
    amount: { value: '1.00', currency: 'RUB' },
    confirmation: { type: 'redirect', return_url: RETURN_URL },
    ...extra,
  };
  return api(emulator, 'POST', '/payments', body, newKey());
}
