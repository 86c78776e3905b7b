// Entry point of `npm run agent` on a VPN node: HTTP(S) API + reconcile loop (+ Xray, if asked to run it).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createLogger } from '../logger';
import { loadOrExit, parseAgentConfig } from './config';
import { Reconciler } from './reconciler';
import { createAgentApp } from './server';
import { AgentService } from './service';
import { AgentStore } from './store';
import { XrayApi } from './xray-api';
import { XrayProcess } from './xray-process';

async function main(): Promise<void> {
  const config = loadOrExit(parseAgentConfig);
  const log = createLogger('agent');
  const store = new AgentStore(config.dataDir);
  await store.read(); // fail now, not on the first request, if the state file is unreadable
  const xray = new XrayApi(config.xrayApi);
  const xrayProcess =
    config.spawnXray && config.xrayBin && config.xrayConfig
      ? new XrayProcess(config.xrayBin, config.xrayConfig, log)
      : undefined;
  xrayProcess?.start();

  const deps = { store, xray, inboundTag: config.inboundTag, xrayBin: config.xrayBin };
  const reconciler = new Reconciler(new AgentService(deps), {
    intervalMs: config.reconcileIntervalMs,
    logger: log,
  });
  const app = createAgentApp({ ...deps, token: config.token, logger: log });
  const server = config.tlsCert
    ? https.createServer({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey!) }, app)
    : http.createServer(app);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  reconciler.start();
  log.info({ port, tls: Boolean(config.tlsCert), dataDir: config.dataDir }, 'agent listening');
  // Machine-readable line for supervisors and tests that start the agent on port 0.
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'agent stopping');
    server.close();
    server.closeAllConnections?.();
    await reconciler.stop();
    // Collect the last counters before Xray (possibly ours) goes away.
    await new AgentService(deps).harvest().catch(() => undefined);
    await xrayProcess?.stop();
    xray.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: Error) => {
  process.stderr.write(`agent: ${e.message}\n`);
  process.exit(1);
});
