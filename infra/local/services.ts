import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ensureDatabase, startLocalPostgres, type LocalPostgres } from './postgres';
import { findOrInstallTemporalCli } from './temporal-cli';
import { SEARCH_ATTRIBUTES } from '../temporal';
import { migrate, openOrm } from '../db/orm';

// Real PostgreSQL and a real Temporal server, started once per mocha run on first use, stopped in the root hook.
let pg: Promise<LocalPostgres> | undefined;
let pgDir: string | undefined;
let temporal: Promise<TestWorkflowEnvironment> | undefined;
const openOrms: MikroORM[] = [];

export function postgres(): Promise<LocalPostgres> {
  if (process.env.DATABASE_URL) {
    const url = process.env.DATABASE_URL;
    return Promise.resolve({ url, port: Number(new URL(url).port), stop: async () => undefined });
  }
  if (!pg) {
    pgDir = mkdtempSync(path.join(os.tmpdir(), 'vpn-test-pg-'));
    pg = startLocalPostgres(pgDir, 'postgres');
  }
  return pg;
}

/** A fresh, migrated database per caller, so test files never see each other's rows. */
export async function freshDatabase(): Promise<{ url: string; orm: MikroORM }> {
  const server = await postgres();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new URL(server.url);
  admin.pathname = '/postgres';
  await ensureDatabase(admin.toString(), name);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  const orm = await openOrm(url.toString(), { pool: 5 });
  await migrate(orm);
  openOrms.push(orm);
  return { url: url.toString(), orm };
}

export function temporalServer(): Promise<TestWorkflowEnvironment> {
  if (!temporal) temporal = createTemporal();
  return temporal;
}

async function createTemporal(): Promise<TestWorkflowEnvironment> {
  const executable = { type: 'existing-path' as const, path: findOrInstallTemporalCli() };
  // createLocal waits only ~5 s for the server; a cold machine can need more, so retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: {
          executable,
          searchAttributes: Object.values(SEARCH_ATTRIBUTES),
          extraArgs: [
            '--dynamic-config-value',
            'frontend.workerVersioningDataAPIs=true',
            '--log-level',
            'error',
          ],
        },
      });
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
}

export async function stopServices(): Promise<void> {
  await Promise.all(openOrms.splice(0).map((o) => o.close().catch(() => undefined)));
  if (temporal) await (await temporal).teardown().catch(() => undefined);
  if (pg && !process.env.DATABASE_URL) await (await pg).stop();
  if (pgDir) rmSync(pgDir, { recursive: true, force: true });
  temporal = undefined;
  pg = undefined;
}
