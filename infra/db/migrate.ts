import { loadConfigOrExit } from '../config';
import { logger } from '../logger';
import { migrate, openOrm } from './orm';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const orm = await openOrm(config.DATABASE_URL, { pool: 1 });
  try {
    const applied = await migrate(orm);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  logger.error({ err }, 'migration failed');
  process.exit(1);
});
