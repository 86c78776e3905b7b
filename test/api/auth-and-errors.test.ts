import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { ADMIN_TOKEN, API_TOKEN, type ApiHarness, startApi } from './harness';

describe('api: auth, validation and error shapes', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  const botRoutes: Array<[string, string]> = [
    ['GET', '/api/v1/tariffs'],
    ['POST', '/api/v1/users/register'],
    ['POST', '/api/v1/payments/create'],
    ['POST', '/api/v1/payments/00000000-0000-4000-8000-000000000000/retry'],
    ['GET', '/api/v1/payments/00000000-0000-4000-8000-000000000000'],
    ['POST', '/api/v1/payments/stars/confirm'],
    ['GET', '/api/v1/subscriptions/1/status'],
    ['GET', '/api/v1/subscriptions/1/config'],
  ];
  const adminRoutes: Array<[string, string]> = [
    ['GET', '/api/v1/admin/tariffs'],
    ['POST', '/api/v1/admin/tariffs'],
    ['PATCH', '/api/v1/admin/tariffs/1'],
    ['GET', '/api/v1/admin/nodes'],
    ['POST', '/api/v1/admin/nodes'],
    ['PATCH', '/api/v1/admin/nodes/00000000-0000-4000-8000-000000000000'],
    ['DELETE', '/api/v1/admin/nodes/00000000-0000-4000-8000-000000000000'],
    ['GET', '/api/v1/admin/stats'],
    ['GET', '/api/v1/admin/users'],
    ['GET', '/api/v1/admin/users/1'],
    ['GET', '/api/v1/admin/purchases'],
  ];

  it('answers 401 {error:"unauthorized"} on bot-facing routes without or with a wrong bearer', async () => {
    for (const [method, path] of botRoutes) {
      for (const token of [null, 'wrong-token-0123456789', ADMIN_TOKEN.slice(0, -1)]) {
        const res = await api.call(method, path, { token, body: method === 'GET' ? undefined : {} });
        assert.equal(res.status, 401, `${method} ${path} with ${token}`);
        assert.deepEqual(res.body, { error: 'unauthorized' });
      }
    }
  });

  it('answers 401 on admin routes without ADMIN_TOKEN, including with the bot token', async () => {
    for (const [method, path] of adminRoutes) {
      for (const token of [null, API_TOKEN, 'x']) {
        const res = await api.call(method, path, { token, body: method === 'GET' ? undefined : {} });
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.deepEqual(res.body, { error: 'unauthorized' });
      }
    }
    const wrongScheme = await api.call('GET', '/api/v1/admin/stats', {
      token: null,
      headers: { authorization: `Basic ${ADMIN_TOKEN}` },
    });
    assert.equal(wrongScheme.status, 401);
  });

  it('answers 422 naming the field and the problem', async () => {
    const missing = await api.call('POST', '/api/v1/users/register', { body: {} });
    assert.equal(missing.status, 422);
    assert.equal(missing.body.error, 'validation_failed');
    assert.equal(missing.body.field, 'telegram_id');
    assert.ok(missing.body.message);

    const bad = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: 5, tariff_id: 1, provider: 'paypal' },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.field, 'provider');
    assert.match(bad.body.message, /yookassa|stars/);

    const noTariff = await api.call('POST', '/api/v1/payments/create', { body: { telegram_id: 5 } });
    assert.deepEqual([noTariff.status, noTariff.body.field], [422, 'tariff_id']);

    const param = await api.call('GET', '/api/v1/payments/not-a-uuid');
    assert.deepEqual([param.status, param.body.field], [422, 'payment_id']);

    const query = await api.call('GET', '/api/v1/admin/purchases?stage=LOST', { token: ADMIN_TOKEN });
    assert.deepEqual([query.status, query.body.field], [422, 'stage']);
  });

  it('answers 400 for malformed JSON and 413 past the body limit, without stacks', async () => {
    const malformed = await api.call('POST', '/api/v1/users/register', { raw: '{"telegram_id": 1,' });
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.body, { error: 'malformed_json', message: 'request body is not valid JSON' });

    const big = await api.call('POST', '/api/v1/users/register', {
      raw: JSON.stringify({ telegram_id: 1, username: 'x'.repeat(70_000) }),
    });
    assert.equal(big.status, 413);
    assert.doesNotMatch(big.text, /at .*\.ts:\d+/);
  });

  it('answers 404 JSON for unknown routes', async () => {
    const res = await api.call('GET', '/api/v1/nope');
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'not_found');
    assert.match(res.headers.get('content-type') ?? '', /json/);
  });

  it('sends every header helmet sends, with helmet’s values', async () => {
    const expected = await headersOfAHelmetApp();
    assert.ok(Object.keys(expected).length >= 10, 'helmet sets its headers');
    for (const url of ['/api/v1/nope', '/health']) {
      const res = await api.call('GET', url);
      for (const [name, value] of Object.entries(expected)) assert.equal(res.headers.get(name), value, name);
      assert.equal(res.headers.get('x-powered-by'), null);
    }
  });

  describe('bad input is a clear 4xx, never a 5xx', () => {
    const admin = { token: ADMIN_TOKEN };

    it('refuses a NUL character in a text field (422 naming it) instead of failing in PostgreSQL', async () => {
      const reg = await api.call('POST', '/api/v1/users/register', {
        body: { telegram_id: 5, first_name: 'a\u0000b' },
      });
      assert.deepEqual(
        [reg.status, reg.body],
        [
          422,
          { error: 'validation_failed', field: 'first_name', message: 'must not contain a NUL character' },
        ],
      );
      const search = await api.call('GET', '/api/v1/admin/users?username=%00x', admin);
      assert.deepEqual([search.status, search.body.field], [422, 'username']);
    });

    it('bounds numbers: duration_days 1e308 and a display_order past int4 are 422, not 500', async () => {
      const base = { slug: 'huge', name: 'Huge', price: '1.00', currency: 'RUB' };
      const huge = await api.call('POST', '/api/v1/admin/tariffs', {
        ...admin,
        raw: `{"slug":"huge","name":"Huge","price":"1.00","currency":"RUB","duration_days":1e308}`,
      });
      assert.deepEqual([huge.status, huge.body.field], [422, 'duration_days']);
      const order = await api.call('POST', '/api/v1/admin/tariffs', {
        ...admin,
        body: { ...base, duration_days: 30, display_order: -14_986_125_788 },
      });
      assert.deepEqual([order.status, order.body.field], [422, 'display_order']);
      const telegram = await api.call('POST', '/api/v1/payments/stars/confirm', {
        raw: '{"telegram_id":1,"payload":"p","telegram_payment_charge_id":"c","total_amount":1e308}',
      });
      assert.deepEqual([telegram.status, telegram.body.field], [422, 'total_amount']);
    });

    it('answers 405 with Allow for a method a path does not declare', async () => {
      const trace = await api.call('DELETE', '/api/v1/payments/create');
      assert.deepEqual([trace.status, trace.body.error], [405, 'method_not_allowed']);
      assert.equal(trace.headers.get('allow'), 'POST');
      const put = await api.call('PUT', '/api/v1/admin/tariffs/1', admin);
      assert.deepEqual([put.status, put.headers.get('allow')], [405, 'PATCH']);
      const literal = await api.call('GET', '/api/v1/payments/create');
      assert.deepEqual(
        [literal.status, literal.headers.get('allow')],
        [405, 'POST'],
        'not the :payment_id route',
      );
      const tariffs = await api.call('POST', '/api/v1/tariffs');
      assert.deepEqual([tariffs.status, tariffs.headers.get('allow')], [405, 'GET, HEAD']);
    });

    it('takes an empty query value as "not given" where the document allows it (older_than=, tz=), else 422', async () => {
      const stats = await api.call('GET', '/api/v1/admin/stats?tz=', admin);
      assert.equal(stats.status, 200, JSON.stringify(stats.body));
      const purchases = await api.call('GET', '/api/v1/admin/purchases?older_than=', admin);
      assert.equal(purchases.status, 200, JSON.stringify(purchases.body));
      const users = await api.call('GET', '/api/v1/admin/users?username=', admin);
      assert.deepEqual([users.status, users.body.field], [422, 'username'], 'minLength 1 is documented');
    });
  });
});

/** The headers helmet() itself adds to an answer of a bare express app. */
async function headersOfAHelmetApp(): Promise<Record<string, string>> {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.get('/', (_req, res) => {
    res.send('ok');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const own = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'etag']);
    return Object.fromEntries([...res.headers].filter(([name]) => !own.has(name)));
  } finally {
    server.close();
  }
}
