import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, parseConfig } from '../../infra/config';
import { ensureXrayBinary } from '../../infra/xray/binary';
import { Supervisor } from './children';
import { errorText, step, warn } from './log';
import { startLocalNode } from './node';
import { tsxCommand } from './paths';
import { freePortPair, portFree, preferPort } from './ports';
import { startDevPostgres } from './postgres';
import { printSummary, waitUntilReady } from './ready';
import { loadDevSecrets, pick } from './secrets';
import { migrateAndSeed } from './seed';
import { cleanUpPreviousRun } from './stale';
import { startDevTemporal } from './temporal';
import { startYooKassa } from './yookassa';

const READY_TIMEOUT_MS = 120_000;

export async function runDev(): Promise<void> {
  const dataDir = path.resolve(process.env.DATA_DIR?.trim() || '.data');
  step(`DATA_DIR ${dataDir}`);
  mkdirSync(dataDir, { recursive: true });
  const pidFile = path.join(dataDir, 'dev-pids.json');
  await cleanUpPreviousRun(pidFile, dataDir);

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
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!exiting) step(`${signal}: stopping every child`);
      void shutdown(0);
    });
  }

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
    const [apiToken, adminToken, agentToken] = (['API_TOKEN', 'ADMIN_TOKEN', 'AGENT_TOKEN'] as const).map(
      (n) => pick(n, secrets),
    );
    step(
      `secrets: API_TOKEN / ADMIN_TOKEN / AGENT_TOKEN ${apiToken.fromEnv ? 'from the environment' : `in ${secretsFile}`}`,
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
      WORKER_METRICS_PORT: String(await freePortPair()),
    };

    const yookassa = await startYooKassa(sup, env, secrets, apiBase);

    const config = parseConfig(env, ['API_TOKEN', 'ADMIN_TOKEN']); // one clear line before anything else starts
    let node = 'being prepared';
    const nodeTask = xray.then(async (x) => {
      if ('error' in x) {
        node = `Xray not available: ${x.error}; purchases will wait for a node`;
        return step(node);
      }
      try {
        const n = await startLocalNode(sup, {
          dataDir,
          xrayBin: x.bin,
          agentToken: agentToken.value,
          databaseUrl,
          env,
        });
        node = `"local-dev", VLESS+Reality on 127.0.0.1:${n.vlessPort}, agent ${n.agentUrl}`;
      } catch (err) {
        if (sup.stopping) return;
        node = `not started (${errorText(err)}); purchases will wait for a node`;
        warn(`node: ${node}`);
      }
    });

    step('worker: starting (it bundles the workflows first)');
    sup.spawn('worker', ...tsxCommand('workers/main.ts'), { env });
    step(`api: starting on ${apiBase}`);
    sup.spawn('api', ...tsxCommand('api/main.ts'), { env });
    const bot = process.env.BOT_TOKEN ? `polling, API_URL=${apiBase}` : 'skipped (set BOT_TOKEN to start it)';
    if (process.env.BOT_TOKEN) sup.spawn('bot', ...tsxCommand('bot/main.ts'), { env });
    else step(`bot: ${bot}`);

    await waitUntilReady(apiBase, config, READY_TIMEOUT_MS);
    await Promise.race([nodeTask, sleep(5_000)]);
    const temporalUi = temporal.uiUrl || '(TEMPORAL_ADDRESS is external: see its own UI)';
    printSummary({
      seconds: process.uptime(),
      temporalUi,
      apiBase,
      yookassa,
      secretsFile,
      tokensFromEnv: apiToken.fromEnv,
      node,
      bot,
    });
  } catch (err) {
    if (!exiting) warn(err instanceof ConfigError ? err.message : `failed: ${errorText(err)}`);
    await shutdown(1);
  }
}

/** API_PORT if given (it must be free), else 8080, else any free port. */
async function chooseApiPort(): Promise<number> {
  const given = process.env.API_PORT?.trim();
  if (given) {
    const port = Number(given);
    if (!/^\d{1,5}$/.test(given) || port < 1 || port > 65535)
      throw new Error('API_PORT must be a port number');
    if (!(await portFree(port)))
      throw new Error(`API_PORT ${port} is busy: stop what uses it or pick another`);
    return port;
  }
  const port = await preferPort(8080);
  if (port !== 8080) step(`api: port 8080 is busy, using ${port}`);
  return port;
}
