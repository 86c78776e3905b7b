import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../infra/config';
import { DEFAULT_WORKER_TUNING, purchasesWorkerSettings } from '../../workers/worker-settings';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** Starts a real entry point with a given environment and returns how it ended. */
function start(entry: string, env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(DATABASE_URL|TEMPORAL_|API_TOKEN|ADMIN_TOKEN|NODE_ENV)/.test(k),
    ),
  );
  return spawnSync(TSX, [path.join(ROOT, entry)], {
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('configuration', () => {
  it('a production worker without DATABASE_URL exits at once with one line naming it', () => {
    const r = start('workers/main.ts', {
      NODE_ENV: 'production',
      API_TOKEN: 'x'.repeat(32),
      ADMIN_TOKEN: 'y'.repeat(32),
    });
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim(), 'config error: DATABASE_URL is required');
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
  });

  it('a malformed TEMPORAL_ADDRESS stops the API with one clear line', () => {
    const r = start('api/main.ts', {
      DATABASE_URL: 'postgres://u@127.0.0.1:1/db',
      TEMPORAL_ADDRESS: 'not a host port',
      API_TOKEN: 'x'.repeat(32),
      ADMIN_TOKEN: 'y'.repeat(32),
    });
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /TEMPORAL_ADDRESS must look like host:port/);
  });

  it('parses durations with units, lists, and defaults from the contract', () => {
    const c = parseConfig({
      DATABASE_URL: 'postgres://x/y',
      REMIND_BEFORE: '24h,72h',
      PAYMENT_TIMEOUT: '15m',
    });
    assert.deepEqual(c.REMIND_BEFORE, [72 * 3_600_000, 24 * 3_600_000]);
    assert.equal(c.PAYMENT_TIMEOUT, 15 * 60_000);
    assert.equal(c.TEMPORAL_ADDRESS, 'localhost:7233');
    assert.equal(c.API_PORT, 8080);
    assert.throws(
      () => parseConfig({ DATABASE_URL: 'postgres://x/y', PAYMENT_TIMEOUT: 'soon' }),
      ConfigError,
    );
    assert.throws(
      () => parseConfig({ DATABASE_URL: 'postgres://x/y', YOOKASSA_SHOP_ID: '1' }),
      /set together/,
    );
  });

  it('the worker tuning and pool size reach the worker settings, and nonsense is refused', () => {
    const c = parseConfig({
      DATABASE_URL: 'postgres://x/y',
      WORKER_CACHED_WORKFLOWS: '120',
      WORKER_ACTIVITY_CONCURRENCY: '80',
    });
    const settings = purchasesWorkerSettings({
      cachedWorkflows: c.WORKER_CACHED_WORKFLOWS,
      activityConcurrency: c.WORKER_ACTIVITY_CONCURRENCY,
    });
    assert.equal(settings.maxCachedWorkflows, 120);
    assert.equal(settings.maxConcurrentActivityTaskExecutions, 80);
    assert.equal(c.DATABASE_POOL_MAX, 10);
    const defaults = purchasesWorkerSettings({});
    assert.equal(defaults.maxCachedWorkflows, DEFAULT_WORKER_TUNING.cachedWorkflows);
    for (const bad of [
      { WORKER_CACHED_WORKFLOWS: '-1' },
      { WORKER_ACTIVITY_CONCURRENCY: '0' },
      { DATABASE_POOL_MAX: 'many' },
    ]) {
      assert.throws(() => parseConfig({ DATABASE_URL: 'postgres://x/y', ...bad }), ConfigError);
    }
  });
});
