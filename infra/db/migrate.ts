import { loadConfigOrExit } from '../config';
import { logger } from '../logger';
import { reencryptNodeSecrets } from '../nodes/reencrypt';
import { nodeSecretsFromEnv } from '../nodes/secrets';
import { migrate, openOrm } from './orm';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const orm = await openOrm(config.DATABASE_URL, { pool: 1 });
  try {
    const applied = await migrate(orm);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date');
    // Plaintext node secrets (older rows) and ones under NODE_SECRETS_KEY_OLD move to the current key.
    const secrets = nodeSecretsFromEnv(config);
    if (secrets.encrypting) logger.info(await reencryptNodeSecrets(orm, secrets), 'node secrets encrypted');
    else logger.warn('NODE_SECRETS_KEY is not set: agent tokens and SSH keys are stored in plaintext');
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  logger.error({ err }, 'migration failed');
  process.exit(1);
});
