import type { MikroORM } from '@mikro-orm/postgresql';
import { Pool, type PoolConfig } from 'pg';

/** Connections of the read pool: its queries are one indexed lookup each, so a few keep up with the API. */
export const READ_POOL_MAX = 4;

/**
 * A plain node-postgres pool beside MikroORM's, for the API's two hottest single-row reads: YooKassa
 * redelivering a settled payment's notification, and a client refreshing `/sub`. Through MikroORM each such
 * read also pays for its query formatting, knex's runner and knex's pool, which profiled as the largest share
 * of those routes (issue 17, P3). Queries take `$1` placeholders. The pool opens with the ORM's own
 * connection settings and type parsers, so a row reads the same either way.
 */
export interface ReadPool {
  one<T extends object>(query: string, params: unknown[]): Promise<T | undefined>;
  close(): Promise<void>;
}

export function openReadPool(orm: MikroORM, opts: { max?: number } = {}): ReadPool {
  const pool = new Pool({
    // The PostgreSQL driver's options carry its type parsers (`types`) beside host, user and database.
    ...(orm.em.getConnection().getConnectionOptions() as PoolConfig),
    max: opts.max ?? READ_POOL_MAX,
    // An idle API holds no connection of its own here, and an unclosed pool never keeps a process alive.
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  });
  // A dropped idle connection is replaced on the next query; it must not crash the process.
  pool.on('error', () => {});
  return {
    async one<T extends object>(query: string, params: unknown[]) {
      const result = await pool.query(query, params);
      return result.rows[0] as T | undefined;
    },
    close: () => pool.end(),
  };
}
