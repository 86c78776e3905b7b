import type { MikroORM } from '@mikro-orm/postgresql';
import type { LooseRow } from '../infra/db/rows';

/** The loose ad-hoc row (joins, aggregates); a read of one table names its type from infra/db/rows.ts. */
export type Row = LooseRow;

/** Parameterised SQL (`?` placeholders) on the shared pool; `T` names the columns the query selects. */
export function sql<T extends object = Row>(
  orm: MikroORM,
  query: string,
  params: unknown[] = [],
): Promise<T[]> {
  return orm.em.getConnection().execute(query, params, 'all') as Promise<T[]>;
}

export async function sqlOne<T extends object = Row>(
  orm: MikroORM,
  query: string,
  params: unknown[] = [],
): Promise<T | undefined> {
  const rows = await sql<T>(orm, query, params);
  return rows[0];
}

/** PostgreSQL unique_violation / foreign_key_violation, as raised through the driver. */
export const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';
export const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === '23503';

export const iso = (d: Date | string | null | undefined): string | null =>
  d === null || d === undefined ? null : new Date(d).toISOString();
