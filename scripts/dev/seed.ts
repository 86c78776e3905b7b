import { openOrm, migrate } from '../../infra/db/orm';
import { seedTariffs } from '../../infra/db/seed';
import { step } from './log';

export async function migrateAndSeed(databaseUrl: string): Promise<void> {
  const orm = await openOrm(databaseUrl, { pool: 2 });
  try {
    const applied = await migrate(orm);
    step(`postgres: migrations ${applied.length ? `applied: ${applied.join(', ')}` : 'up to date'}`);
    const inserted = await seedTariffs(orm);
    step(`postgres: tariffs seeded (${inserted} new)`);
  } finally {
    await orm.close(true);
  }
}
