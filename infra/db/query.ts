import type { EntityManager } from '@mikro-orm/postgresql';
import type { LooseRow } from './rows';

/**
 * A parameterised query (`?` placeholders) bound to one connection or transaction. `T` names the columns the
 * query selects (a row type from ./rows, or a Pick of one); without it the row is the loose ad-hoc LooseRow.
 */
export type Query = <T extends object = LooseRow>(query: string, params?: unknown[]) => Promise<T[]>;

/** The Query of an open transaction (inside `em.transactional`). */
export function transactionQuery(em: EntityManager): Query {
  return <T extends object = LooseRow>(query: string, params: unknown[] = []) =>
    em.getConnection().execute(query, params, 'all', em.getTransactionContext()) as Promise<T[]>;
}

/** The Query of the shared pool, outside any transaction. */
export function poolQuery(em: EntityManager): Query {
  return <T extends object = LooseRow>(query: string, params: unknown[] = []) =>
    em.getConnection().execute(query, params, 'all') as Promise<T[]>;
}
