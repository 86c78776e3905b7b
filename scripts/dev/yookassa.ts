import type { Supervisor } from './children';
import { step } from './log';
import { tsxCommand } from './paths';
import { freePort, listening } from './ports';
import type { DevSecrets } from './secrets';

/**
 * Unless YOOKASSA_SHOP_ID is set (real YooKassa), start the emulator and point the API and the worker
 * at it: its notifications go to the API's webhook from 127.0.0.1, which the allowlist then admits.
 * Adds the YOOKASSA_* variables to `env`; returns a line for the summary.
 */
export async function startYooKassa(
  sup: Supervisor,
  env: NodeJS.ProcessEnv,
  secrets: DevSecrets,
  apiBase: string,
): Promise<string> {
  if (process.env.YOOKASSA_SHOP_ID) {
    return `not started: YOOKASSA_SHOP_ID is set, so ${process.env.YOOKASSA_API_URL ?? 'api.yookassa.ru'} is used`;
  }
  const port = await freePort();
  Object.assign(env, {
    YOOKASSA_SHOP_ID: secrets.YOOKASSA_SHOP_ID,
    YOOKASSA_SECRET_KEY: secrets.YOOKASSA_SECRET_KEY,
    YOOKASSA_API_URL: `http://127.0.0.1:${port}/v3`,
    YOOKASSA_RETURN_URL: process.env.YOOKASSA_RETURN_URL || apiBase,
    YOOKASSA_WEBHOOK_ALLOW: process.env.YOOKASSA_WEBHOOK_ALLOW || '127.0.0.1/32,::1/128',
  });
  step(`yookassa: starting the emulator on 127.0.0.1:${port} (notifications -> the API's webhook)`);
  const emulator = sup.spawn('yookassa', ...tsxCommand('infra/yookassa/emulator-main.ts'), {
    watch: false,
    env: {
      ...env,
      YOOKASSA_EMULATOR_PORT: String(port),
      YOOKASSA_EMULATOR_HOST: '127.0.0.1',
      YOOKASSA_EMULATOR_WEBHOOK_URL: `${apiBase}/api/v1/payments/webhook`,
    },
  });
  await listening(emulator, port, 60_000);
  sup.watch(emulator);
  return `${env.YOOKASSA_API_URL} (checkout pages http://127.0.0.1:${port}/checkout/<payment id>)`;
}
