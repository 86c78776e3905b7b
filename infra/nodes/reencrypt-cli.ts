// `npm run node-secrets:reencrypt`: encrypt plaintext node secrets and move old-key ones to NODE_SECRETS_KEY.
// `npm run migrate` runs the same step after the migrations, so a deploy does it by itself.
import { loadConfigOrExit } from '../config';
import { openOrm } from '../db/orm';
import { logger } from '../logger';
import { reencryptNodeSecrets } from './reencrypt';
import { nodeSecretsFromEnv } from './secrets';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const secrets = nodeSecretsFromEnv(config);
  if (!secrets.encrypting) {
    process.stderr.write('config error: NODE_SECRETS_KEY is required to encrypt node secrets\n');
    process.exit(1);
  }
  const orm = await openOrm(config.DATABASE_URL, { pool: 1 });
  try {
    logger.info(await reencryptNodeSecrets(orm, secrets), 'node secrets re-encrypted');
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  logger.error({ err: (err as Error).message }, 'node secrets re-encryption failed');
  process.exit(1);
});
