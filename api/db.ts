import type { MikroORM } from '@mikro-orm/postgresql';

// biome-ignore lint/suspicious/noExplicitAny: rows are plain snake_case records read by column name.
export type Row = Record<string, any>;

/** Parameterised SQL (`?` placeholders) on the shared pool. */
export function sql(orm: MikroORM, query: string, params: unknown[] = []): Promise<Row[]> {
  return orm.em.getConnection().execute(query, params, 'all');
}

export async function sqlOne(orm: MikroORM, query: string, params: unknown[] = []): Promise<Row | undefined> {
  const rows = await sql(orm, query, params);
  return rows[0];
}

/** PostgreSQL unique_violation / foreign_key_violation, as raised through the driver. */
export const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';
export const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === '23503';

export const iso = (d: Date | string | null | undefined): string | null =>
  d === null || d === undefined ? null : new Date(d).toISOString();
