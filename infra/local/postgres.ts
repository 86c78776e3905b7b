import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Debian installs PostgreSQL under /usr/lib/postgresql/<major>/bin, off PATH. */
export function findPgBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const bin = path.join(root, major, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql-15)');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A PostgreSQL binary as [command, args]; root runs it as the `postgres` user, which initdb requires. */
export function pgCommand(name: string, args: string[]): [string, string[]] {
  const bin = path.join(findPgBin(), name);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

export const runPg = (name: string, args: string[]): Buffer =>
  execFileSync(...pgCommand(name, args), { stdio: 'pipe' });

/** initdb once (trust auth on loopback, UTF-8); `settings` go to postgresql.auto.conf. */
export function ensurePgDataDir(dir: string, settings: string): void {
  if (existsSync(path.join(dir, 'PG_VERSION'))) return;
  const asRoot = process.getuid?.() === 0;
  mkdirSync(dir, { recursive: true });
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  runPg('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  writeFileSync(path.join(dir, 'postgresql.auto.conf'), settings);
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
}

/** initdb (once) and start a private PostgreSQL on a free loopback port. Root runs it as `postgres`. */
export async function startLocalPostgres(dataDir: string, database = 'vpn'): Promise<LocalPostgres> {
  const absDir = path.resolve(dataDir);
  // Test databases are disposable: trade durability for speed.
  ensurePgDataDir(absDir, 'fsync = off\nsynchronous_commit = off\nmax_connections = 200\n');
  const port = await freePort();
  const args = ['-D', absDir, '-p', String(port), '-k', absDir, '-h', '127.0.0.1'];
  const child: ChildProcess = spawn(...pgCommand('postgres', args), { stdio: 'ignore' });
  await waitForPort(port, 30_000);
  const admin = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  await ensureDatabase(admin, database);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/${database}`,
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // pg_ctl's fast mode: aborts sessions, checkpoints, keeps data. Signals would stop at runuser.
      runPg('pg_ctl', ['-D', absDir, 'stop', '-m', 'fast', '-w', '-t', '30']);
      await exited;
    },
  };
}

export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host, () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const { Client } = await import('pg');
  for (let attempt = 0; ; attempt++) {
    const client = new Client({ connectionString: adminUrl });
    try {
      await client.connect();
      const found = await client.query('select 1 from pg_database where datname = $1', [database]);
      if (found.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '')}"`);
      return;
    } catch (err) {
      if (attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 200)); // the server accepts TCP before it accepts logins
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
