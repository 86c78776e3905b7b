import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../infra/config';
import { ensureXrayBinary } from '../../infra/xray/binary';
import { Supervisor } from './children';
import { errorText, step, warn } from './log';
import { localNodeInBackground } from './node';
import { tsxCommand } from './paths';
import { freePortPair } from './ports';
import { startDevPostgres } from './postgres';
import { ConfigError, chooseApiPort, preflight } from './preflight';
import { printSummary, waitUntilReady } from './ready';
import { loadDevSecrets, pick } from './secrets';
import { migrateAndSeed } from './seed';
import { startDevTemporal } from './temporal';
import { startYooKassa } from './yookassa';

const READY_TIMEOUT_MS = 120_000;

export async function runDev(): Promise<void> {
  const { dataDir, pidFile } = await preflight();

  let exiting = false;
  const shutdown = async (code: number) => {
    if (exiting) return;
    exiting = true;
    await sup.stopAll();
    step(code === 0 ? 'all stopped' : 'all stopped after a failure');
    process.exit(code);
  };
  const sup = new Supervisor(pidFile, (name, how) => {
    warn(`${name} exited unexpectedly (${how}); stopping everything`);
    void shutdown(1);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!exiting) step(`${signal}: stopping every child`);
      void shutdown(0);
    });
  }
  const crash = (err: unknown) => {
    warn(`failed: ${errorText(err)}`);
    void shutdown(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  try {
    step('xray: looking for the Xray binary (a first run builds it with Go, which may take a few minutes)');
    const xray = ensureXrayBinary().then(
      (bin) => ({ bin }),
      (err: unknown) => ({ error: errorText(err) }),
    );

    let temporal = { address: process.env.TEMPORAL_ADDRESS ?? '', uiUrl: process.env.TEMPORAL_UI_URL ?? '' };
    if (temporal.address) step(`temporal: using TEMPORAL_ADDRESS=${temporal.address}`);
    else temporal = await startDevTemporal(sup, dataDir);

    let databaseUrl = process.env.DATABASE_URL ?? '';
    if (databaseUrl) step('postgres: using DATABASE_URL');
    else databaseUrl = await startDevPostgres(sup, path.join(dataDir, 'pg'), 'vpn');
    await migrateAndSeed(databaseUrl);

    const secretsFile = path.join(dataDir, 'dev-secrets.json');
    const secrets = loadDevSecrets(secretsFile);
    const [apiToken, adminToken, adminReadToken, agentToken] = (
      ['API_TOKEN', 'ADMIN_TOKEN', 'ADMIN_READ_TOKEN', 'AGENT_TOKEN'] as const
    ).map((n) => pick(n, secrets));
    step(
      `secrets: API_TOKEN / ADMIN_TOKEN ${apiToken.fromEnv ? 'from the environment' : `in ${secretsFile}`}`,
    );

    const apiPort = await chooseApiPort();
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      ...(temporal.uiUrl ? { TEMPORAL_UI_URL: temporal.uiUrl } : {}),
      API_PORT: String(apiPort),
      API_URL: apiBase,
      PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL || apiBase,
      API_TOKEN: apiToken.value,
      ADMIN_TOKEN: adminToken.value,
      ADMIN_READ_TOKEN: adminReadToken.value,
      SUPPORT_URL: process.env.SUPPORT_URL || 'https://t.me/support', // the bot has no default of its own
      WORKER_METRICS_PORT: String(await freePortPair()),
    };
    const yookassa = await startYooKassa(sup, env, secrets, apiBase);
    const config = parseConfig(env, ['API_TOKEN', 'ADMIN_TOKEN']);

    const nodeOpts = { dataDir, agentToken: agentToken.value, databaseUrl, env };
    const node = localNodeInBackground(sup, xray, nodeOpts);
    step('worker: starting (it bundles the workflows first)');
    sup.spawn('worker', ...tsxCommand('workers/main.ts'), { env });
    step(`api: starting on ${apiBase}`);
    sup.spawn('api', ...tsxCommand('api/main.ts'), { env });
    const bot = process.env.BOT_TOKEN
      ? `started (BOT_MODE=${process.env.BOT_MODE || 'polling'}, API_URL=${apiBase})`
      : 'skipped (set BOT_TOKEN to start it)';
    if (process.env.BOT_TOKEN) sup.spawn('bot', ...tsxCommand('bot/main.ts'), { env: botEnv(env) });
    else step(`bot: ${bot}`);

    await waitUntilReady(apiBase, config, READY_TIMEOUT_MS);
    await Promise.race([node.done, sleep(5_000)]);
    printSummary({
      seconds: process.uptime(),
      temporalUi: temporal.uiUrl || '(TEMPORAL_ADDRESS is external: see its own UI)',
      apiBase,
      yookassa,
      secretsFile,
      tokensFromEnv: apiToken.fromEnv,
      node: node.status(),
      bot,
    });
  } catch (err) {
    if (!exiting) warn(err instanceof ConfigError ? err.message : `failed: ${errorText(err)}`);
    await shutdown(1);
  }
}

/** The bot gets only its own variables (secrets by role), as in docker-compose.yml. */
function botEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { ADMIN_TOKEN, DATABASE_URL, YOOKASSA_SECRET_KEY, YOOKASSA_SHOP_ID, AGENT_TOKEN, ...rest } = env;
  return rest;
}
