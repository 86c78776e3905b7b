import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Generated once per DATA_DIR, so restarts (and the bot, and curl) keep working with the same values. */
export interface DevSecrets {
  API_TOKEN: string;
  ADMIN_TOKEN: string;
  ADMIN_READ_TOKEN: string;
  AGENT_TOKEN: string;
  YOOKASSA_SHOP_ID: string;
  YOOKASSA_SECRET_KEY: string;
}

const token = () => randomBytes(24).toString('hex');

export function loadDevSecrets(file: string): DevSecrets {
  let saved: Partial<DevSecrets> = {};
  if (existsSync(file)) {
    try {
      saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    } catch {
      throw new Error(`${file} is not valid JSON; fix or delete it (new tokens will be generated)`);
    }
  }
  const secrets: DevSecrets = {
    API_TOKEN: saved.API_TOKEN ?? token(),
    ADMIN_TOKEN: saved.ADMIN_TOKEN ?? token(),
    ADMIN_READ_TOKEN: saved.ADMIN_READ_TOKEN ?? token(),
    AGENT_TOKEN: saved.AGENT_TOKEN ?? token(),
    YOOKASSA_SHOP_ID: saved.YOOKASSA_SHOP_ID ?? 'dev-shop',
    YOOKASSA_SECRET_KEY: saved.YOOKASSA_SECRET_KEY ?? `test_${token()}`,
  };
  if (JSON.stringify(saved) !== JSON.stringify(secrets)) {
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets;
}

/** The environment wins over the file: real values are used wherever they are set. */
export function pick(name: keyof DevSecrets, secrets: DevSecrets): { value: string; fromEnv: boolean } {
  const env = process.env[name]?.trim();
  return env ? { value: env, fromEnv: true } : { value: secrets[name], fromEnv: false };
}
