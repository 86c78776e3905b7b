import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openOrm } from '../../infra/db/orm';
import { type LocalPostgres, startLocalPostgres } from '../../infra/local/postgres';
import { insertTariff, insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApi } from './harness';

// Our own PostgreSQL, so stopping it hurts no other suite.
describe('api: PostgreSQL down', function () {
  this.timeout(120_000);
  let pg: LocalPostgres;
  let dir: string;
  let api: ApiHarness;
  let telegramId: number;
  let tariffId: number;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-outage-pg-'));
    pg = await startLocalPostgres(dir, 'vpn');
    const orm = await openOrm(pg.url, { pool: 3 });
    await migrate(orm);
    api = await startApi({ db: { url: pg.url, orm } });
    telegramId = uniqueTelegramId();
    await insertUser(orm, telegramId);
    tariffId = (await insertTariff(orm)).id;
    await pg.stop();
  });
  after(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 service_unavailable with Retry-After (never 500) while the database is unreachable', async () => {
    const calls: Array<[string, string, unknown]> = [
      [
        'POST',
        '/api/v1/payments/create',
        { telegram_id: telegramId, tariff_id: tariffId, provider: 'yookassa' },
      ],
      ['GET', `/api/v1/subscriptions/${telegramId}/status`, undefined],
      ['POST', '/api/v1/users/register', { telegram_id: telegramId, language: 'en' }],
    ];
    for (const [method, route, body] of calls) {
      const res = await api.call(method, route, { body });
      assert.equal(res.status, 503, `${method} ${route}: ${JSON.stringify(res.body)}`);
      assert.equal((res.body as { error: string }).error, 'service_unavailable');
      assert.match(String(res.headers.get('retry-after')), /^\d+$/);
    }
  });
});
