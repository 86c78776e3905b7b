import type { MikroORM } from '@mikro-orm/postgresql';
import { mapNodeSecrets, type NodeSecrets } from './secrets';

/**
 * Rewrites every node secret that is plaintext (rows from before encryption) or sealed with an old
 * key, so after it NODE_SECRETS_KEY alone decrypts everything. Row-locked and idempotent; a second run
 * rewrites nothing. Throws (and changes nothing) if some value decrypts with none of the keys.
 */
export async function reencryptNodeSecrets(
  orm: MikroORM,
  secrets: NodeSecrets,
): Promise<{ nodes: number; rewritten: number }> {
  return orm.em.fork().transactional(async (em) => {
    const q = (query: string, params: unknown[] = []) =>
      em.getConnection().execute(query, params, 'all', em.getTransactionContext());
    const rows = await q(`select id, agent_token, ssh from vpn_nodes order by id for update`);
    let rewritten = 0;
    for (const row of rows) {
      let stale = false;
      mapNodeSecrets(row, (value) => {
        if (!secrets.isCurrent(value)) stale = true;
        return value;
      });
      if (!stale) continue;
      const next = mapNodeSecrets(row, (value, field) => secrets.seal(secrets.open(value, field), field));
      await q(`update vpn_nodes set agent_token = ?, ssh = ?::jsonb where id = ?`, [
        next.agent_token ?? null,
        next.ssh ? JSON.stringify(next.ssh) : null,
        row.id,
      ]);
      rewritten++;
    }
    return { nodes: rows.length, rewritten };
  });
}
