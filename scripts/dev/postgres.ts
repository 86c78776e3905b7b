import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureDatabase, ensurePgDataDir, pgCommand, runPg } from '../../infra/local/postgres';
import { type Child, type Supervisor, terminate } from './children';
import { step } from './log';
import { freePort, listening } from './ports';

/**
 * Like infra/local/postgres.ts, but the server runs detached under the supervisor: a terminal's Ctrl-C
 * must not stop PostgreSQL before the API and the worker are done with it. Stopped with pg_ctl.
 */
export async function startDevPostgres(sup: Supervisor, dir: string, database: string): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) letPostgresIn(path.dirname(dir));
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    step(`postgres: initdb ${dir}`);
    ensurePgDataDir(dir, 'max_connections = 200\n');
  } else if (isRunning(dir)) {
    step('postgres: a server from a previous run still uses the data dir; stopping it');
    runPg('pg_ctl', ['-D', dir, 'stop', '-m', 'fast', '-w', '-t', '30']);
  }
  const port = await freePort();
  step(`postgres: starting on 127.0.0.1:${port} (data ${dir})`);
  const stop = async (child: Child) => {
    try {
      runPg('pg_ctl', ['-D', dir, 'stop', '-m', 'fast', '-w', '-t', '30']);
    } catch {
      await terminate(child, 10_000, 'SIGINT'); // postgres' own "fast shutdown" signal
    }
    await child.exited;
  };
  const args = ['-D', dir, '-p', String(port), '-k', dir, '-h', '127.0.0.1'];
  const child = sup.spawn('postgres', ...pgCommand('postgres', args), { stop, watch: false });
  await listening(child, port, 60_000);
  sup.watch(child);
  await ensureDatabase(`postgresql://postgres@127.0.0.1:${port}/postgres`, database);
  return `postgresql://postgres@127.0.0.1:${port}/${database}`;
}

function isRunning(dir: string): boolean {
  if (!existsSync(path.join(dir, 'postmaster.pid'))) return false;
  try {
    runPg('pg_ctl', ['-D', dir, 'status']);
    return true;
  } catch {
    return false; // exit 3: not running (a stale postmaster.pid is fine, postgres removes it)
  }
}

/** As root the server runs as `postgres`, which must be able to reach DATA_DIR (mkdtemp makes 0700). */
function letPostgresIn(dataDir: string): void {
  const canEnter = () => {
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dataDir], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (canEnter()) return;
  chmodSync(dataDir, statSync(dataDir).mode | 0o011);
  if (!canEnter()) {
    throw new Error(
      `user postgres cannot enter ${dataDir}: make its parent folders world-searchable (chmod o+x)`,
    );
  }
}
