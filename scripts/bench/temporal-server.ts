// BENCH_TEMPORAL=server: the purchase throughput and payment link figures measured a second time against
// the real Temporal server on PostgreSQL (go.temporal.io/server, as docker-compose.yml runs it), printed
// beside the dev server's figures. The dev server keeps its state in SQLite in one process; production's
// persistence is PostgreSQL, which is what bounds throughput there.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ensureDatabase } from '../../infra/local/postgres';
import { startTemporalServer } from '../../infra/local/temporal-server';
import { registerSearchAttributes } from '../../infra/temporal';
import { postgres } from '../../infra/local/services';

export type BenchTemporal = 'dev' | 'server';

export function benchTemporal(raw = process.env.BENCH_TEMPORAL): BenchTemporal {
  if (raw === undefined || raw === '' || raw === 'dev') return 'dev';
  if (raw === 'server') return 'server';
  throw new Error(`BENCH_TEMPORAL must be "dev" or "server", got "${raw}"`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `size` consecutive free loopback ports below 32768 (the server keeps membership ports in a smallint). */
async function freeBlock(size: number): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 1190) * 10;
    const all = await Promise.all(Array.from({ length: size }, (_, i) => portFree(base + i)));
    if (all.every(Boolean)) return base;
  }
  throw new Error(`no ${size} consecutive free loopback ports`);
}

export interface ServerTemporal {
  address: string;
  client: Client;
  close(): Promise<void>;
}

/** The real server on the bench's own PostgreSQL (its schema set up by temporal-sql-tool first). */
export async function startServerTemporal(): Promise<ServerTemporal> {
  const pg = await postgres();
  const url = new URL(pg.url);
  // temporal-sql-tool creates its two databases itself; the admin database must exist to connect.
  const admin = new URL(pg.url);
  admin.pathname = '/postgres';
  await ensureDatabase(admin.toString(), 'postgres');
  const port = await freeBlock(31);
  const server = await startTemporalServer({
    postgres: {
      host: url.hostname,
      port: Number(url.port),
      user: decodeURIComponent(url.username) || 'postgres',
      password: decodeURIComponent(url.password),
    },
    port,
    logFile: path.join(os.tmpdir(), `vpn-bench-temporal-server-${process.pid}.log`),
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  await registerSearchAttributes(client, 'default');
  return {
    address: server.address,
    client,
    close: async () => {
      await connection.close().catch(() => undefined);
      await server.stop();
    },
  };
}
