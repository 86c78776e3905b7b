import type { Server } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { loadConfigOrExit } from '../infra/config';
import { openOrm } from '../infra/db/orm';
import { openReadPool, type ReadPool } from '../infra/db/read-pool';
import { createLogger } from '../infra/logger';
import { connectClient } from '../infra/temporal';
import { breakerSettingsFrom, createBreakers, watchOutcomes } from '../infra/circuit-breaker';
import { yooKassaClientFromConfig } from '../infra/yookassa/from-config';
import { createApp } from './app';

const SHUTDOWN_GRACE_MS = 10_000;
const logger = createLogger('api');

/** Startup failures end the process with one clear line, never a stack trace or a half-started server. */
function fail(what: string, err: unknown): never {
  process.stderr.write(`api: cannot ${what}: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(['API_TOKEN', 'ADMIN_TOKEN']);
  const orm = await openOrm(config.DATABASE_URL, { pool: config.DATABASE_POOL_MAX }).catch((err) =>
    fail('open the database', err),
  );
  const temporal = await connectClient(config).catch((err) =>
    fail(`connect to Temporal at ${config.TEMPORAL_ADDRESS}`, err),
  );
  const breakers = createBreakers(orm, breakerSettingsFrom(config), { logger });
  const yookassaClient = yooKassaClientFromConfig(config);
  // The webhook's re-reads count too; the breaker never blocks them.
  const yookassa = yookassaClient && watchOutcomes(yookassaClient, 'yookassa', breakers);
  if (!yookassa) logger.warn('YOOKASSA_SHOP_ID not set: card payments answer 503, Stars still work');

  const reads = openReadPool(orm);
  const app = createApp({ config, orm, reads, temporal, yookassa, logger, breakers });
  const server = app.listen(config.API_PORT);
  server.once('error', (err) => fail(`listen on port ${config.API_PORT}`, err));
  server.once('listening', () => logger.info({ port: config.API_PORT }, 'api listening'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    void shutdown(server, { orm, reads, temporal }).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** Stop accepting, let in-flight requests finish (bounded), then close PostgreSQL and Temporal. */
export async function shutdown(
  server: Server,
  { orm, reads, temporal }: { orm: MikroORM; reads: ReadPool; temporal: Client },
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const force = setTimeout(() => {
    logger.warn('grace period over: closing remaining connections');
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  await closed;
  clearTimeout(force);
  await reads.close();
  await orm.close(true);
  await temporal.connection.close();
  logger.info('api stopped');
}

if (require.main === module) void main();
