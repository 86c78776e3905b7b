import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  type Breakers,
  type BreakerState,
  type BreakerSystem,
  createBreakers,
  watchOutcomes,
} from '../../infra/circuit-breaker';
import { createTelegramSender, type TelegramSender } from '../../infra/telegram/sender';
import { createYooKassaClient, type YooKassaClient } from '../../infra/yookassa/client';
import { startYooKassaEmulator, type YooKassaEmulator } from '../../infra/yookassa/emulator';
import { DEFAULT_FAULTS } from '../../infra/yookassa/emulator-faults';
import { freshDatabase } from '../support/services';
import { startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator';

const SHOP_ID = '100500';
const SECRET = 'test_breaker_secret_key_0123456789';

/** Waits for a state change that comes with time (open → half-open); not a timing assertion. */
async function until(breakers: Breakers, system: BreakerSystem, state: BreakerState): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await breakers.states())[system] === state) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${system} breaker never became ${state}`);
}

describe('circuit breakers (PostgreSQL) fed by the YooKassa and Telegram adapters', () => {
  let orm: MikroORM;
  let emulator: YooKassaEmulator;
  let telegram: TelegramEmulator;
  /** What the worker writes through. */
  let worker: Breakers;
  /** Another process (the API) reading the same rows. */
  let api: Breakers;
  let yookassa: YooKassaClient;
  let sender: TelegramSender;

  const create = () =>
    yookassa.createPayment({
      idempotenceKey: randomUUID(),
      amount: '10.00',
      currency: 'RUB',
      description: 'VPN: test',
      metadata: {},
    });

  before(async () => {
    ({ orm } = await freshDatabase());
    emulator = await startYooKassaEmulator({ shopId: SHOP_ID, secretKey: SECRET });
    telegram = await startTelegramEmulator();
    const settings = { failures: 3, openForMs: 1500 };
    worker = createBreakers(orm, settings, { cacheMs: 0 });
    api = createBreakers(orm, settings, { cacheMs: 0 });
    const client = createYooKassaClient({
      apiUrl: emulator.url,
      shopId: SHOP_ID,
      secretKey: SECRET,
      returnUrl: 'http://127.0.0.1:9/return',
      timeoutMs: 2000,
    });
    yookassa = watchOutcomes(client, 'yookassa', worker);
    sender = watchOutcomes(
      createTelegramSender({ apiRoot: telegram.url, botToken: telegram.token }),
      'telegram',
      worker,
    );
  });
  after(async () => {
    await emulator.close();
    await telegram.close();
  });
  afterEach(() => Object.assign(emulator.faults, DEFAULT_FAULTS));

  it('opens after BREAKER_FAILURES outages in a row; a success in between resets the count; 4xx are no outages', async () => {
    emulator.faults.failNext500 = 2;
    await assert.rejects(create());
    await assert.rejects(create());
    await create(); // YooKassa answers again: the count starts over
    emulator.faults.failNext500 = 2;
    await assert.rejects(create());
    await assert.rejects(create());
    await assert.rejects(yookassa.getPayment(randomUUID()), /404/); // answered "not found": not an outage
    assert.equal((await api.states()).yookassa, 'closed');

    emulator.faults.failNext500 = 1;
    await assert.rejects(create());
    emulator.faults.failNext500 = 3;
    for (let i = 0; i < 3; i++) await assert.rejects(create());
    assert.deepEqual(await api.states(), { yookassa: 'open', telegram: 'closed' });
    assert.equal(await api.admit('yookassa'), false, 'new work is refused while open');
    assert.equal(await api.admit('telegram'), true, 'other systems are not affected');
  });

  it('never blocks a call itself: in-flight work still reaches YooKassa, and its success closes the breaker', async () => {
    assert.equal((await api.states()).yookassa, 'open');
    const before = emulator.payments().length;
    await create();
    assert.equal(emulator.payments().length, before + 1);
    assert.equal((await api.states()).yookassa, 'closed');
  });

  it('half-open lets exactly one probe through; a failed probe re-opens, a good one closes', async () => {
    emulator.faults.failNext500 = 3;
    for (let i = 0; i < 3; i++) await assert.rejects(create());
    assert.equal((await api.states()).yookassa, 'open');
    await until(api, 'yookassa', 'half_open');
    assert.equal(await api.admit('yookassa'), true, 'the probe');
    assert.equal(await api.admit('yookassa'), false, 'only one probe per period');

    emulator.faults.failNext500 = 1;
    await assert.rejects(create()); // the probe fails
    assert.equal((await api.states()).yookassa, 'open', 're-opened for another period');
    assert.equal(await api.admit('yookassa'), false);

    await until(api, 'yookassa', 'half_open');
    assert.equal(await api.admit('yookassa'), true);
    await create(); // the probe succeeds
    assert.equal((await api.states()).yookassa, 'closed');
    assert.equal(await api.admit('yookassa'), true);
  });

  it('Telegram: 5xx and network failures count, 429 and blocked users do not', async () => {
    const chat = 4242;
    telegram.failNext('sendMessage', { code: 429, retry_after: 1 });
    telegram.failNext('sendMessage', { code: 403 });
    telegram.failNext('sendMessage', { code: 429, retry_after: 1 });
    for (let i = 0; i < 3; i++) await assert.rejects(sender.sendMessage(chat, 'hi'));
    assert.equal((await api.states()).telegram, 'closed');

    for (let i = 0; i < 3; i++) telegram.failNext('sendMessage', { code: i === 1 ? 502 : 500 });
    for (let i = 0; i < 3; i++) await assert.rejects(sender.sendMessage(chat, 'hi'));
    assert.equal((await api.states()).telegram, 'open');
    assert.equal(await api.admit('telegram'), false);

    await sender.sendMessage(chat, 'delivered anyway'); // the notifier keeps retrying; this one gets through
    assert.equal((await api.states()).telegram, 'closed');
  });

  it('concurrent outages from several workers are each counted once', async () => {
    const many = createBreakers(orm, { failures: 50, openForMs: 60_000 }, { cacheMs: 0 });
    await Promise.all(Array.from({ length: 40 }, () => many.recordFailure('yookassa', 'boom')));
    const [row] = await orm.em
      .getConnection()
      .execute(`select state, failures from circuit_breakers where system = 'yookassa'`);
    assert.deepEqual([row.state, Number(row.failures)], ['closed', 40]);
    await Promise.all(Array.from({ length: 20 }, () => many.recordFailure('yookassa', 'boom')));
    assert.equal((await many.states()).yookassa, 'open');
    await many.recordSuccess('yookassa');
  });
});
