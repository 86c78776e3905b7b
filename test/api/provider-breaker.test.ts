import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createBreakers, watchOutcomes } from '../../infra/circuit-breaker';
import { createTelegramSender } from '../../infra/telegram/sender';
import { DEFAULT_FAULTS } from '../../infra/yookassa/emulator-faults';
import type { PurchaseSystem } from '../support/system';
import { insertTariff, insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, METRICS_TOKEN, metricValue, startApiOnSystem } from './harness';

const WORKFLOW_SOURCE = path.join(__dirname, '../../workflows/purchase.ts');
const BREAKER_ENV = { BREAKER_FAILURES: '3', BREAKER_OPEN_FOR: '3s' };

describe('api: the YooKassa circuit breaker turns new purchases away while YooKassa keeps failing', function () {
  this.timeout(180_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  let tg: number;
  let tariffSlug: string;
  const started: string[] = [];

  before(async function () {
    if (!existsSync(WORKFLOW_SOURCE)) return this.skip();
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    // The workers feed the breaker exactly as workers/main.ts does, through PostgreSQL.
    sys = new PurchaseSystem({
      withNode: false,
      wrapYooKassa: (client, orm) =>
        watchOutcomes(client, 'yookassa', createBreakers(orm, { failures: 3, openForMs: 3000 })),
    });
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys, BREAKER_ENV);
    tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    tariffSlug = (await insertTariff(sys.orm, { starPrice: 50 })).slug;
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
  afterEach(() => sys && Object.assign(sys.yookassa.faults, DEFAULT_FAULTS));

  const create = async (provider = 'yookassa') => {
    const res = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: tariffSlug, provider },
    });
    if (res.body?.workflow_id) started.push(res.body.workflow_id);
    return res;
  };
  const health = async () => (await api.call('GET', '/health', { token: null })).body;
  const gauge = async () =>
    metricValue(
      (await api.call('GET', '/metrics', { token: METRICS_TOKEN })).text,
      'circuit_breaker_state{system="yookassa"}',
    );
  /** The API reads the breaker through a ~1 s cache; wait for it to show the state (not a timing assertion). */
  async function healthShows(state: string): Promise<void> {
    for (let i = 0; i < 150; i++) {
      if ((await health()).checks.yookassa === state) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`/health never showed yookassa ${state}`);
  }
  const paymentRows = async () =>
    Number((await sys.orm.em.getConnection().execute(`select count(*)::int as n from payments`))[0].n);

  it('faults → open → create answers 503 provider_unavailable without starting anything → half-open probe → closed', async () => {
    assert.equal((await health()).checks.yookassa, 'closed');
    assert.equal(await gauge(), 0);

    // YooKassa answers 500 to every attempt of the workflow's createPayment activity (3 attempts).
    sys.yookassa.faults.failNext500 = 3;
    const failed = await create();
    assert.deepEqual([failed.status, failed.body.error], [503, 'payment_provider_unavailable']);
    await healthShows('open');
    const body = await health();
    assert.equal(body.status, 'ok', 'a provider outage does not make the API itself unhealthy');
    assert.equal(await gauge(), 1);

    const rowsBefore = await paymentRows();
    const callsBefore = sys.yookassa.payments().length;
    const refused = await create();
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error, 'provider_unavailable');
    assert.equal(await paymentRows(), rowsBefore, 'no payment row, no workflow started');
    assert.equal(sys.yookassa.payments().length, callsBefore, 'YooKassa was not called');

    const stars = await create('stars');
    assert.equal(stars.status, 201, 'Stars purchases do not depend on YooKassa');

    await healthShows('half_open');
    assert.equal(await gauge(), 2);
    const probe = await create();
    assert.equal(probe.status, 201, JSON.stringify(probe.body));
    assert.match(probe.body.confirmation_url, /\/checkout\//);
    await healthShows('closed');
    assert.equal(await gauge(), 0);
    assert.equal((await create()).status, 201);
  });

  it('Telegram keeps failing → Stars purchases get 503 provider_unavailable, card purchases go on', async () => {
    const sender = watchOutcomes(
      createTelegramSender({ apiRoot: sys.telegram.url, botToken: sys.telegram.token }),
      'telegram',
      createBreakers(sys.orm, { failures: 3, openForMs: 3000 }),
    );
    for (let i = 0; i < 3; i++) sys.telegram.failNext('sendMessage', { code: 502 });
    for (let i = 0; i < 3; i++) await assert.rejects(sender.sendMessage(tg, 'hello'));
    for (let i = 0; i < 150 && (await health()).checks.telegram !== 'open'; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await health()).checks.telegram, 'open');

    // An open Stars invoice from the test before would be reused (that needs no provider): close it first.
    await sys.orm.em
      .getConnection()
      .execute(`update payments set status = 'expired' where provider = 'stars' and status = 'pending'`);
    const stars = await create('stars');
    assert.deepEqual([stars.status, stars.body.error], [503, 'provider_unavailable']);
    assert.equal((await create()).status, 201, 'YooKassa is fine');
    await sender.sendMessage(tg, 'hello again'); // Telegram answers: closed
  });
});
