// The test deployment's settings: free loopback ports, the .env the compose stack reads, and the
// emulators' addresses in it. Written to .data/deploy-test/ (git- and docker-ignored).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './docker';

export const ENV_DIR = path.join(ROOT, '.data', 'deploy-test');
export const ENV_FILE = path.join(ENV_DIR, '.env');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A block of `size` consecutive free ports in [20000, 32000), so Temporal's offsets are free too. Below
 * 32768 because Temporal stores membership ports in a PostgreSQL smallint (a port of 58827 made the
 * server fail its cluster_membership upsert in a test:deploy run).
 */
export async function freeBlock(size: number): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 1190) * 10;
    const all = await Promise.all(Array.from({ length: size }, (_, i) => portFree(base + i)));
    if (all.every(Boolean)) return base;
  }
  throw new Error(`no ${size} consecutive free loopback ports`);
}

export interface TestPorts {
  pg: number;
  api: number;
  bot: number;
  temporal: number;
}

/** Ports of this run; Temporal's services sit at fixed offsets from its frontend (see compose.test.yml). */
export async function pickPorts(): Promise<TestPorts> {
  const base = await freeBlock(40);
  return { pg: base, api: base + 1, bot: base + 2, temporal: base + 10 };
}

/** The VPN_TEST_* variables compose.test.yml interpolates. */
export function composeVars(p: TestPorts): Record<string, string> {
  const t = p.temporal;
  return {
    VPN_TEST_PG_PORT: String(p.pg),
    VPN_TEST_API_PORT: String(p.api),
    VPN_TEST_BOT_PORT: String(p.bot),
    VPN_TEST_TEMPORAL_PORT: String(t),
    VPN_TEST_TEMPORAL_HISTORY_PORT: String(t + 1),
    VPN_TEST_TEMPORAL_MATCHING_PORT: String(t + 2),
    VPN_TEST_TEMPORAL_WORKER_PORT: String(t + 3),
    VPN_TEST_TEMPORAL_HTTP_PORT: String(t + 4),
    VPN_TEST_TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(t + 5),
    VPN_TEST_TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(t + 6),
    VPN_TEST_TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(t + 7),
    VPN_TEST_TEMPORAL_WORKER_MEMBERSHIP_PORT: String(t + 8),
    VPN_TEST_TEMPORAL_METRICS_PORT: String(t + 9),
  };
}

export interface TestSecrets {
  postgresPassword: string;
  apiToken: string;
  adminToken: string;
  adminReadToken: string;
  shopId: string;
  yookassaSecret: string;
}

export function newSecrets(): TestSecrets {
  const hex = (n: number) => randomBytes(n).toString('hex');
  return {
    postgresPassword: hex(12),
    apiToken: hex(20),
    adminToken: hex(20),
    adminReadToken: hex(20),
    shopId: '100500',
    yookassaSecret: `test_${hex(8)}`,
  };
}

/** The operator's .env, filled for this machine: emulated YooKassa and Telegram on loopback. */
export function writeEnvFile(opts: {
  ports: TestPorts;
  secrets: TestSecrets;
  yookassaUrl: string;
  telegramUrl: string;
  botToken: string;
}): Record<string, string> {
  const { ports, secrets } = opts;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    POSTGRES_USER: 'vpn',
    POSTGRES_PASSWORD: secrets.postgresPassword,
    POSTGRES_DB: 'vpn',
    TEMPORAL_NAMESPACE: 'default',
    API_TOKEN: secrets.apiToken,
    ADMIN_TOKEN: secrets.adminToken,
    ADMIN_READ_TOKEN: secrets.adminReadToken,
    PUBLIC_BASE_URL: `http://127.0.0.1:${ports.api}`,
    BOT_TOKEN: opts.botToken,
    TELEGRAM_API_ROOT: opts.telegramUrl,
    BOT_MODE: 'polling',
    YOOKASSA_SHOP_ID: secrets.shopId,
    YOOKASSA_SECRET_KEY: secrets.yookassaSecret,
    YOOKASSA_API_URL: opts.yookassaUrl,
    YOOKASSA_RETURN_URL: `http://127.0.0.1:${ports.api}/return`,
    YOOKASSA_WEBHOOK_ALLOW: '127.0.0.1/32,::1/128,::ffff:127.0.0.1/128',
    PAYMENT_TIMEOUT: '30m',
    ...composeVars(ports),
  };
  mkdirSync(ENV_DIR, { recursive: true });
  const text = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  writeFileSync(
    ENV_FILE,
    `# Written by scripts/deploy/test-deploy.ts for one run; secrets are random.\n${text}\n`,
    {
      mode: 0o600,
    },
  );
  return env;
}
