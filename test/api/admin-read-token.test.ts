import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../infra/config';
import { ADMIN_TOKEN, API_TOKEN, type ApiHarness, startApi } from './harness';

/** Issue 10, item 13: secrets by role on the API side. */

const READ_TOKEN = 'admin-read-token-for-tests-0123456789';
const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

describe('api: ADMIN_READ_TOKEN (read-only admin) and distinct tokens', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi({ env: { ADMIN_READ_TOKEN: READ_TOKEN } });
  });
  after(() => api.close());

  it('reads every admin GET route it is given', async () => {
    for (const p of [
      '/api/v1/admin/stats',
      '/api/v1/admin/nodes',
      '/api/v1/admin/tariffs',
      '/api/v1/admin/purchases',
    ]) {
      const res = await api.call('GET', p, { token: READ_TOKEN });
      assert.equal(res.status, 200, `GET ${p}: ${res.text}`);
    }
    const user = await api.call('GET', '/api/v1/admin/users/424242', { token: READ_TOKEN });
    assert.equal(user.status, 404, 'an unknown user, but not an auth refusal');
  });

  it('cannot POST, PATCH or DELETE admin routes: 403 read_only_token, and nothing changes', async () => {
    const before = await api.call('GET', '/api/v1/admin/tariffs', { token: ADMIN_TOKEN });
    const writes: Array<[string, string, unknown]> = [
      [
        'POST',
        '/api/v1/admin/tariffs',
        { slug: 'ro', name: 'RO', price: '1.00', currency: 'RUB', duration_days: 1 },
      ],
      ['PATCH', '/api/v1/admin/tariffs/00000000-0000-4000-8000-000000000000', { name: 'x' }],
      ['POST', '/api/v1/admin/nodes', {}],
      ['PATCH', '/api/v1/admin/nodes/00000000-0000-4000-8000-000000000000', { capacity: 1 }],
      ['DELETE', '/api/v1/admin/nodes/00000000-0000-4000-8000-000000000000', undefined],
    ];
    for (const [method, p, body] of writes) {
      const res = await api.call(method, p, { token: READ_TOKEN, body });
      assert.equal(res.status, 403, `${method} ${p}`);
      assert.deepEqual(res.body, { error: 'read_only_token' });
    }
    const after = await api.call('GET', '/api/v1/admin/tariffs', { token: ADMIN_TOKEN });
    assert.deepEqual(after.body, before.body);
    // The full admin token still writes (a bad body → 422, past the auth).
    const full = await api.call('POST', '/api/v1/admin/tariffs', { token: ADMIN_TOKEN, body: {} });
    assert.equal(full.status, 422);
  });

  it('opens no bot-facing route, and the bot token opens no admin route', async () => {
    assert.equal((await api.call('GET', '/api/v1/tariffs', { token: READ_TOKEN })).status, 401);
    assert.equal((await api.call('GET', '/api/v1/admin/stats', { token: API_TOKEN })).status, 401);
  });

  it('config refuses equal tokens with one line naming both', () => {
    const base = { DATABASE_URL: 'postgres://x/y' };
    const same = 's'.repeat(32);
    const message = (env: Record<string, string>) => {
      try {
        parseConfig({ ...base, ...env });
        return 'accepted';
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
      }
    };
    assert.equal(
      message({ API_TOKEN: same, ADMIN_TOKEN: same }),
      'config error: API_TOKEN and ADMIN_TOKEN must differ',
    );
    assert.equal(
      message({ API_TOKEN: 'a'.repeat(32), ADMIN_TOKEN: same, ADMIN_READ_TOKEN: same }),
      'config error: ADMIN_TOKEN and ADMIN_READ_TOKEN must differ',
    );
    assert.equal(
      message({ API_TOKEN: same, ADMIN_TOKEN: 'b'.repeat(32), ADMIN_READ_TOKEN: same }),
      'config error: API_TOKEN and ADMIN_READ_TOKEN must differ',
    );
    assert.equal(message({ API_TOKEN: 'a'.repeat(32), ADMIN_TOKEN: 'b'.repeat(32) }), 'accepted');
  });

  it('`npm run api` with API_TOKEN = ADMIN_TOKEN exits 1 with that one line, before listening', () => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(DATABASE_URL|TEMPORAL_|API_TOKEN|ADMIN_|NODE_ENV|YOOKASSA_)/.test(k),
      ),
    );
    const r = spawnSync(TSX, [path.join(ROOT, 'api/main.ts')], {
      env: {
        ...clean,
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://u@127.0.0.1:1/db',
        API_TOKEN: 'same-'.repeat(8),
        ADMIN_TOKEN: 'same-'.repeat(8),
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), 'config error: API_TOKEN and ADMIN_TOKEN must differ');
  });
});
