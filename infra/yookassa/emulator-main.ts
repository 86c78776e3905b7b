/**
 * Standalone YooKassa emulator for `npm run dev` (tsx infra/yookassa/emulator-main.ts).
 * Env: YOOKASSA_SHOP_ID, YOOKASSA_SECRET_KEY (required, the same the API uses),
 * YOOKASSA_EMULATOR_PORT (default 8090), YOOKASSA_EMULATOR_HOST (default 127.0.0.1),
 * YOOKASSA_EMULATOR_WEBHOOK_URL (where notifications go, e.g. http://127.0.0.1:8080/api/v1/payments/webhook),
 * YOOKASSA_EMULATOR_PUBLIC_URL (origin for confirmation_url when reached through another address),
 * YOOKASSA_EMULATOR_FISCALISATION=on (the shop sends 54-FZ receipts: creates/refunds without one get 400).
 */
import { createLogger } from '../logger';
import { startYooKassaEmulator } from './emulator';

const log = createLogger('yookassa-emulator');

function readEnv(env: NodeJS.ProcessEnv) {
  const value = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const required = (name: string) => {
    const v = value(name);
    if (!v) throw new Error(`config error: ${name} is required`);
    return v;
  };
  const urlOrUndefined = (name: string) => {
    const v = value(name);
    if (v === undefined) return undefined;
    if (!/^https?:\/\/\S+$/.test(v) || !URL.canParse(v))
      throw new Error(`config error: ${name} must be an http(s) URL`);
    return v;
  };
  const portText = value('YOOKASSA_EMULATOR_PORT') ?? '8090';
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) {
    throw new Error('config error: YOOKASSA_EMULATOR_PORT must be a port number 0..65535');
  }
  return {
    port,
    host: value('YOOKASSA_EMULATOR_HOST') ?? '127.0.0.1',
    shopId: required('YOOKASSA_SHOP_ID'),
    secretKey: required('YOOKASSA_SECRET_KEY'),
    webhookUrl: urlOrUndefined('YOOKASSA_EMULATOR_WEBHOOK_URL'),
    publicBaseUrl: urlOrUndefined('YOOKASSA_EMULATOR_PUBLIC_URL'),
    fiscalisation: value('YOOKASSA_EMULATOR_FISCALISATION') === 'on',
  };
}

async function main(): Promise<void> {
  let options: ReturnType<typeof readEnv>;
  try {
    options = readEnv(process.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const emulator = await startYooKassaEmulator(options);
  console.log(`YooKassa emulator: YOOKASSA_API_URL=${emulator.url}`);
  console.log(
    `  checkout pages ${emulator.origin}/checkout/<payment id>, control ${emulator.origin}/__emulator/`,
  );
  console.log(`  notifications -> ${options.webhookUrl ?? '(none: set YOOKASSA_EMULATOR_WEBHOOK_URL)'}`);

  const stop = async (signal: string) => {
    log.info({ signal }, 'stopping');
    await emulator.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: Error) => {
  console.error(`YooKassa emulator failed to start: ${err.message}`);
  process.exit(1);
});
