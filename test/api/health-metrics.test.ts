import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { redactUrl } from '../../api/middleware/request-log';
import { insertNode, insertPayment, insertTariff, insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, METRICS_TOKEN, metricValue, startApi } from './harness';

describe('api: /health and /metrics', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('is healthy when PostgreSQL and Temporal answer', async () => {
    const res = await api.call('GET', '/health', { token: null });
    assert.deepEqual(
      [res.status, res.body],
      [
        200,
        {
          status: 'ok',
          checks: { postgres: 'ok', temporal: 'ok', yookassa: 'closed', telegram: 'closed' },
        },
      ],
    );
  });

  it('answers 503 naming the failing check', async function () {
    this.timeout(20_000);
    const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const broken = await startApi({ temporal: dead });
    try {
      const res = await broken.call('GET', '/health', { token: null });
      assert.deepEqual(
        [res.status, res.body],
        [
          503,
          {
            status: 'error',
            checks: { postgres: 'ok', temporal: 'error', yookassa: 'closed', telegram: 'closed' },
          },
        ],
      );
    } finally {
      await broken.close();
    }
  });

  it('exposes latency by route pattern and the business series read from PostgreSQL', async () => {
    const user = await insertUser(api.orm, uniqueTelegramId());
    const tariff = await insertTariff(api.orm);
    await insertNode(api.orm, 'metrics-up', 'up');
    await insertNode(api.orm, 'metrics-down', 'down');
    await insertPayment(api.orm, { userId: user.id, tariffId: tariff.id, status: 'succeeded' });
    await insertPayment(api.orm, { userId: user.id, tariffId: tariff.id, status: 'canceled' });
    await api.call('GET', `/api/v1/payments/${'0'.repeat(8)}-0000-4000-8000-000000000000`);
    api.metrics.paymentToKey.observe(3.5);

    const res = await api.call('GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const t = res.text;
    assert.match(
      t,
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/payments\/:payment_id",status="404"\} 1/,
    );
    assert.doesNotMatch(t, /route="\/api\/v1\/payments\/0000/, 'never the raw URL');
    assert.equal(metricValue(t, 'purchases{status="succeeded"}'), 1);
    assert.equal(metricValue(t, 'purchases{status="canceled"}'), 1);
    assert.equal(metricValue(t, 'purchases{status="refunded"}'), 0);
    assert.equal(metricValue(t, 'active_subscriptions'), 0);
    assert.equal(metricValue(t, 'vpn_node_up{node="metrics-up"}'), 1);
    assert.equal(metricValue(t, 'vpn_node_up{node="metrics-down"}'), 0);
    assert.equal(metricValue(t, 'vpn_node_clients{node="metrics-up"}'), 3);
    assert.equal(metricValue(t, 'payment_to_key_seconds_count'), 1);
    for (const name of [
      'webhook_rejections_total',
      'payments_orphaned_total',
      'telegram_send_errors_total',
      'ops_alerts_total',
    ]) {
      assert.match(t, new RegExp(`# TYPE ${name} counter`), name);
    }
  });

  it('/metrics wants METRICS_TOKEN: 401 without it or with another token (the API token is not enough)', async () => {
    for (const token of [null, 'not-the-metrics-token-0123456789', api.config.API_TOKEN as string]) {
      const res = await api.call('GET', '/metrics', { token });
      assert.deepEqual([res.status, res.body], [401, { error: 'unauthorized' }], String(token));
      assert.doesNotMatch(res.text, /purchases|http_request_duration/);
    }
  });

  it('/metrics is refused (403 metrics_disabled) when METRICS_TOKEN is not set', async () => {
    const open = await startApi({ env: { METRICS_TOKEN: '' } });
    try {
      for (const token of [null, METRICS_TOKEN]) {
        const res = await open.call('GET', '/metrics', { token });
        assert.deepEqual([res.status, res.body.error], [403, 'metrics_disabled']);
      }
    } finally {
      await open.close();
    }
  });

  it('reads the PostgreSQL figures at most once per 30 s, however often it is scraped', async () => {
    let now = 1_000_000;
    const cached = await startApi({ metricsNow: () => now });
    try {
      const user = await insertUser(cached.orm, uniqueTelegramId());
      const tariff = await insertTariff(cached.orm);
      const scrape = async () =>
        metricValue(
          (await cached.call('GET', '/metrics', { token: METRICS_TOKEN })).text,
          'purchases{status="succeeded"}',
        );
      assert.equal(await scrape(), 0);
      await insertPayment(cached.orm, { userId: user.id, tariffId: tariff.id, status: 'succeeded' });
      now += 29_000;
      assert.equal(await scrape(), 0, 'within 30 s the cached figures are served, no table scan');
      now += 1_000;
      assert.equal(await scrape(), 1, 'after 30 s the figures are read again');
    } finally {
      await cached.close();
    }
  });

  it('keeps subscription tokens out of request logs', () => {
    assert.equal(redactUrl('/sub/abcDEF123_-xyz?x=1'), '/sub/[redacted]?x=1');
    assert.equal(redactUrl('/api/v1/tariffs'), '/api/v1/tariffs');
  });
});
