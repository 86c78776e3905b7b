import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensurePgDataDir, freePort, pgCommand, runPg, waitForPort } from '../../infra/local/postgres';
import { findOrInstallTemporalCli } from '../../infra/local/temporal-cli';
import { registerSearchAttributes, SEARCH_ATTRIBUTE_FLAGS } from '../../infra/temporal';
import { sleep } from '../bench/stats';

/** Resolves when the child exits (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A private PostgreSQL the chaos run may stop and start again: same data dir, same port, so every
 * connection string the system holds stays valid, as with a database server restarted by an operator.
 */
export class RestartablePostgres {
  private child?: ChildProcess;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<RestartablePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-chaos-pg-'));
    // Durable settings (fsync on): a restart must find every committed row.
    ensurePgDataDir(dir, 'max_connections = 300\n');
    const pg = new RestartablePostgres(dir, await freePort());
    await pg.up();
    return pg;
  }

  /** The admin URL; freshDatabase() makes per-scenario databases on it. */
  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async up(): Promise<void> {
    const args = ['-D', this.dir, '-p', String(this.port), '-k', this.dir, '-h', '127.0.0.1'];
    this.child = spawn(...pgCommand('postgres', args), { stdio: 'ignore' });
    await waitForPort(this.port, 60_000);
    // TCP is accepted before logins are: wait for a real query.
    const { Client: PgClient } = await import('pg');
    for (let i = 0; ; i++) {
      const c = new PgClient({ connectionString: this.url });
      try {
        await c.connect();
        await c.query('select 1');
        return;
      } catch (err) {
        if (i > 150) throw err;
        await sleep(200);
      } finally {
        await c.end().catch(() => undefined);
      }
    }
  }

  /** pg_ctl stop -m fast: sessions are aborted, committed data stays (what `systemctl restart` does). */
  async down(): Promise<void> {
    if (!this.child) return;
    const gone = exited(this.child);
    runPg('pg_ctl', ['-D', this.dir, 'stop', '-m', 'fast', '-w', '-t', '60']);
    await gone;
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.down().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * `temporal server start-dev` with a persistent --db-filename: killed (SIGKILL, no shutdown) and started
 * again on the same port, it comes back with every workflow, timer and task queue it had.
 */
export class RestartableTemporal {
  private child?: ChildProcess;
  private output = '';
  client!: Client;
  private connection?: Connection;
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly cli: string,
  ) {}

  static async start(): Promise<RestartableTemporal> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-chaos-temporal-'));
    const t = new RestartableTemporal(dir, await freePort(), findOrInstallTemporalCli());
    await t.up();
    t.connection = await Connection.connect({ address: t.address });
    t.client = new Client({ connection: t.connection, namespace: 'default' });
    // Idempotent: also covers a CLI that would not take the flags on a reused file.
    await registerSearchAttributes(t.client, 'default');
    return t;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get dbFile(): string {
    return path.join(this.dir, 'temporal.db');
  }

  async up(): Promise<void> {
    const base = ['server', 'start-dev', '--db-filename', this.dbFile, '--port', String(this.port)];
    const common = [
      ...base,
      '--headless',
      '--ip',
      '127.0.0.1',
      '--log-level',
      'error',
      '--dynamic-config-value',
      'frontend.workerVersioningDataAPIs=true',
    ];
    const attrs = SEARCH_ATTRIBUTE_FLAGS.flatMap((flag) => ['--search-attribute', flag]);
    try {
      await this.spawn([...common, ...attrs]);
    } catch (err) {
      // A reused file may already hold the attributes; some CLI versions refuse to add them twice.
      if (!this.child || this.child.exitCode === null) throw err;
      await this.spawn(common);
    }
  }

  private async spawn(args: string[]): Promise<void> {
    this.output = '';
    const child = spawn(this.cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const died = exited(child).then(() => {
      throw new Error(`temporal server exited at start: ${this.output}`);
    });
    await Promise.race([waitForPort(this.port, 60_000), died]);
    await Promise.race([this.ready(), died]);
    died.catch(() => undefined);
  }

  /** The frontend answers and the namespace exists (the port opens a little earlier). */
  private async ready(): Promise<void> {
    const conn = await Connection.connect({ address: this.address, connectTimeout: 5_000 });
    try {
      for (let i = 0; ; i++) {
        try {
          await conn.workflowService.describeNamespace({ namespace: 'default' });
          return;
        } catch (err) {
          if (i > 120) throw err;
          await sleep(250);
        }
      }
    } finally {
      await conn.close();
    }
  }

  /** SIGKILL to the whole process group: the server dies mid-whatever, like a crashed host. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const gone = exited(child);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await gone;
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
