import assert from 'node:assert/strict';
import { TokenBuckets } from '../../api/middleware/rate-limit';
import { insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApi } from './harness';

describe('api: per-client rate limit on the bot-facing routes (API_RATE_LIMIT)', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi({ env: { API_RATE_LIMIT: '0.01', API_RATE_BURST: '3' } });
  });
  after(() => api.close());

  it('answers 429 rate_limited with Retry-After once a Telegram user spends the burst; other users are unaffected', async () => {
    const tg = uniqueTelegramId();
    await insertUser(api.orm, tg);
    const status = (id: number) => api.call('GET', `/api/v1/subscriptions/${id}/status`);
    for (let i = 0; i < 3; i++) assert.equal((await status(tg)).status, 200);
    const refused = await status(tg);
    assert.deepEqual([refused.status, refused.body.error], [429, 'rate_limited']);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    // Each Telegram user has their own bucket.
    const other = uniqueTelegramId();
    assert.equal((await status(other)).status, 404, 'another user still gets an answer');
    const register = await api.call('POST', '/api/v1/users/register', { body: { telegram_id: tg } });
    assert.equal(register.status, 429, 'the same user through a body field shares the bucket');
  });

  it('leaves the webhook, /sub, /health and the admin API out of it', async () => {
    for (let i = 0; i < 6; i++) {
      assert.equal((await api.call('GET', '/health', { token: null })).status, 200);
      assert.equal((await api.call('GET', '/sub/unknown-token-0000', { token: null })).status, 404);
      const hook = await api.call('POST', '/api/v1/payments/webhook', { token: null, body: {} });
      assert.notEqual(hook.status, 429);
      const admin = await api.call('GET', '/api/v1/admin/users', { token: api.config.ADMIN_TOKEN as string });
      assert.equal(admin.status, 200);
    }
  });

  it('refills at the configured rate and keeps memory bounded (token bucket)', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 2, burst: 2, now: () => now, maxClients: 100 });
    assert.deepEqual([buckets.take('a'), buckets.take('a')], [0, 0]);
    assert.equal(buckets.take('a'), 1, 'empty: wait one second');
    now += 500;
    assert.equal(buckets.take('a'), 0, 'half a second at 2/s gives one token back');
    for (let i = 0; i < 1000; i++) buckets.take(`client-${i}`);
    assert.ok(buckets.size <= 100, `kept ${buckets.size} buckets`);
  });
});
