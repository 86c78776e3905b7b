import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../support/processes';
import { freshDatabase, temporalServer } from '../support/services';
import { ADMIN_TOKEN, API_TOKEN } from './harness';

const ROOT = path.join(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

function run(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('YOOKASSA_') && k !== 'DATABASE_URL'),
  );
  const child = spawn(TSX, ['api/main.ts'], {
    cwd: ROOT,
    env: { ...clean, NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('api: the `npm run api` process', function () {
  this.timeout(60_000);

  it('exits at start with one line naming a missing token', async () => {
    const { exited, output } = run({ DATABASE_URL: 'postgres://x@127.0.0.1:1/x', API_TOKEN });
    assert.equal(await exited, 1);
    assert.equal(output().trim(), 'config error: ADMIN_TOKEN is required');
  });

  it('serves, then on SIGTERM stops accepting, closes PostgreSQL and Temporal, and exits 0', async () => {
    const [db, env] = await Promise.all([freshDatabase(), temporalServer()]);
    const port = await freePort();
    const api = run({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: env.address,
      API_PORT: String(port),
      API_TOKEN,
      ADMIN_TOKEN,
    });
    try {
      let health: Response | undefined;
      for (let i = 0; i < 150 && !health; i++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(health?.status, 200, api.output());
      // A kept-alive connection must not hold the shutdown up.
      const tariffs = await fetch(`http://127.0.0.1:${port}/api/v1/tariffs`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      assert.equal(tariffs.status, 200);
      const t0 = Date.now();
      api.child.kill('SIGTERM');
      assert.equal(await api.exited, 0, api.output());
      assert.ok(Date.now() - t0 < 8000, 'stopped within the grace period');
      assert.match(api.output(), /api stopped/);
      assert.doesNotMatch(api.output(), new RegExp(`${API_TOKEN}|${ADMIN_TOKEN}`), 'tokens never logged');
    } finally {
      api.child.kill('SIGKILL');
    }
  });
});
