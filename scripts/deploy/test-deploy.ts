// npm run test:deploy — the production deployment, run for real on this machine (issue 18):
//   1. dockerd, Compose v2, the local image stand-ins, the real Temporal server image; compose up
//      (docker-compose.yml + deploy/compose.test.yml), and every container on the host network;
//   2. a purchase through the containers: /start in the emulated Telegram → bot → API → pay at the
//      YooKassa emulator → key + QR; a real Xray client carries traffic through a node with that key;
//   3. --scale worker=2, a burst of 100 purchases while one worker container is killed and restarted;
//   4. a burst of 100 across a PostgreSQL restart, another across a Temporal server restart;
//   5. install-node.sh in a fresh Debian container registers a node that carries a purchased key;
//   6. teardown: containers and volumes removed, images kept (the next run reuses them).
// One JSON object per line on stdout; exit code 0 only if every part held. Idempotent: a previous run's
// leftovers are removed first. `npm run test:deploy -- --parts 1,2 --burst 20` runs a subset, smaller
// (part 1 and the teardown always run).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  TEMPORAL_SERVER_VERSION,
  ensureTemporalServer,
  stageTemporalServer,
} from '../../infra/local/temporal-server';
import { ensureXrayBinary } from '../../infra/xray/binary';
import { type YooKassaEmulator, startYooKassaEmulator } from '../../infra/yookassa/emulator';
import { type RunningAgent, startAgent } from '../../infra/local/agent';
import { type TelegramEmulator, startTelegramEmulator } from '../../infra/local/telegram-emulator';
import {
  type Closeable,
  type XrayServer,
  httpGetViaSocks,
  startHttpTarget,
  startTlsTarget,
  startXrayClient,
  startXrayServer,
} from '../../infra/local/xray';
import {
  COMPOSE_VERSION,
  ComposeStack,
  ROOT,
  containerNetworks,
  docker,
  ensureBaseImages,
  ensureCompose,
  ensureDockerd,
  offNetwork,
} from './docker';
import { ChatUser, type ApiClient, apiClient, auditGrants, buyThroughApi, until } from './drive';
import { NODE_CONTAINER, installNodeInContainer, removeNodeContainer } from './installer-node';
import { ENV_FILE, newSecrets, pickPorts, writeEnvFile } from './stack';

const PROJECT = 'vpn-seller-test';
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const BURST = Number(arg('burst') ?? 100);
const PERIOD_SECONDS = 30 * 86_400;
const started = Date.now();
const parts = new Set((arg('parts') ?? '1,2,3,4,5').split(',').map((s) => s.trim()));

function line(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ event, t: Math.round((Date.now() - started) / 1000), ...fields })}\n`,
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const value = await fn();
  return [value, Math.round((Date.now() - t0) / 100) / 10];
}

/** Stage the real server's binaries and schemas into the Temporal image's build context. */
function stageTemporal(): string {
  const files = ensureTemporalServer((l) => process.stderr.write(`${l}\n`));
  stageTemporalServer(path.join(ROOT, 'deploy', 'temporal', 'bin'), files);
  return files.dir;
}

interface Ctx {
  stack: ComposeStack;
  api: ApiClient;
  adminToken: string;
  databaseUrl: string;
  yookassa: YooKassaEmulator;
  telegram: TelegramEmulator;
  httpTarget: Closeable & { url(p: string): string };
  closers: Array<() => Promise<unknown>>;
}

async function assertHostNetworkOnly(stack: ComposeStack, extra: string[] = []): Promise<number> {
  const rows = await containerNetworks([...(await stack.containers()), ...extra]);
  const bad = offNetwork(rows);
  assert.deepEqual(bad, [], `containers off the host network: ${JSON.stringify(bad)}`);
  return rows.length;
}

async function createTariff(ctx: Ctx, slug: string, name: string, location?: string): Promise<void> {
  const res = await ctx.api.call('POST', '/api/v1/admin/tariffs', {
    token: ctx.adminToken,
    body: {
      slug,
      name,
      description: `${name} (test:deploy)`,
      price: '10.00',
      currency: 'RUB',
      duration: 'P30D',
      display_order: -10,
      ...(location ? { location } : {}),
    },
  });
  assert.ok(
    res.status === 201 || res.status === 409,
    `tariff ${slug}: ${res.status} ${JSON.stringify(res.body)}`,
  );
}

async function registerNode(ctx: Ctx, body: Record<string, unknown>): Promise<string> {
  const res = await ctx.api.call('POST', '/api/v1/admin/nodes', { token: ctx.adminToken, body });
  assert.equal(res.status, 201, `node registration: ${JSON.stringify(res.body)}`);
  return String(res.body.id);
}

/** A real Xray client from the issued link alone; fetches a loopback page through the node. */
async function trafficThrough(ctx: Ctx, vless: string): Promise<{ bytes: number; body: string }> {
  const client = await startXrayClient(vless);
  process.stderr.write(`traffic through ${vless}\n`);
  try {
    const res = await until(
      () => httpGetViaSocks(client.socksPort, ctx.httpTarget.url('/hello'), { timeoutMs: 10_000 }),
      'traffic through the node',
      60_000,
      1000,
    );
    assert.equal(res.body.toString(), 'hello through vless');
    return { bytes: res.body.length, body: res.body.toString() };
  } finally {
    await client.stop();
  }
}

// ---- parts ------------------------------------------------------------------------------------------

async function partPurchase(ctx: Ctx): Promise<void> {
  // A node on this host (Xray + agent, as the test suite runs them), registered like an operator would.
  const tls = await startTlsTarget();
  const xray: XrayServer = await startXrayServer({ targetPort: tls.port });
  const agent: RunningAgent = await startAgent(xray);
  ctx.closers.push(
    () => agent.stop(),
    () => xray.stop(),
    () => tls.close(),
  );
  await registerNode(ctx, {
    name: 'host-node',
    host: '127.0.0.1',
    port: xray.port,
    location: 'host',
    country_code: 'NL',
    capacity: 1000,
    driver: 'agent',
    agent_url: agent.url,
    agent_token: agent.token,
    reality: { public_key: xray.publicKey, short_id: xray.shortId, server_name: xray.serverName },
  });
  await createTariff(ctx, 'deploy-30d', 'Deploy', 'host');

  const user = new ChatUser(ctx.telegram, 9_100_000_000 + randomInt(1_000_000) * 10);
  const [, seconds] = await timed(async () => {
    await user.start();
    const url = await user.chooseCard(/^Deploy · /);
    const since = user.mark();
    const { payOnPage } = await import('./drive');
    await payOnPage(url);
    const { vless, png } = await user.keyAndQr(since);
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'the QR is a PNG');
    const traffic = await trafficThrough(ctx, vless);
    line('purchase', {
      through: 'containers',
      taps: user.taps,
      key: 'vless',
      qr_png_bytes: png.length,
      traffic_bytes: traffic.bytes,
      node: 'host-node',
    });
  });
  line('part', { part: 2, name: 'purchase through the containers', ok: true, seconds });
}

/** BURST buyers through the API, `disrupt` fired once a quarter of them have paid; then the audit. */
async function burst(
  ctx: Ctx,
  scenario: string,
  disrupt: () => Promise<Record<string, unknown>>,
): Promise<void> {
  const base = 9_200_000_000 + randomInt(1_000_000) * 1000;
  const ids = Array.from({ length: BURST }, (_, i) => base + i);
  let paid = 0;
  let retries = 0;
  let disruption: Promise<Record<string, unknown>> | undefined;
  const t0 = Date.now();
  const queue = [...ids];
  const failures: string[] = [];
  // Ten buyers at a time: the stack shares 2 cores with everything else on this machine.
  const workers = Array.from({ length: 10 }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        const bought = await buyThroughApi(ctx.api, id, 'deploy-30d');
        retries += bought.retries;
      } catch (e) {
        failures.push(`${id}: ${(e as Error).message}`);
      }
      if (++paid === Math.ceil(BURST / 4)) disruption = disrupt();
    }
  });
  await Promise.all(workers);
  const disrupted = await (disruption ?? disrupt());
  const audit = await until(
    async () => {
      const a = await auditGrants(ctx.databaseUrl, ids, PERIOD_SECONDS);
      // Every buyer who got through paid on the page: "unpaid" in our books is only a webhook or poll not
      // yet booked (e.g. its workflow task was on the killed worker), so wait for it like for a grant.
      const settled = a.granted + a.doubled + a.lost >= BURST - failures.length;
      return settled && a.unpaid <= failures.length && a.lost === 0 ? a : false;
    },
    `${scenario}: every purchase granted`,
    900_000,
    2000,
  ).catch(async (e) => {
    const a = await auditGrants(ctx.databaseUrl, ids, PERIOD_SECONDS);
    line('burst', { scenario, ok: false, ...a, failures: failures.slice(0, 5), error: String(e) });
    throw e;
  });
  const seconds = Math.round((Date.now() - t0) / 100) / 10;
  const ok =
    audit.granted === BURST &&
    audit.doubled === 0 &&
    audit.lost === 0 &&
    audit.unpaid === 0 &&
    failures.length === 0;
  line('burst', {
    scenario,
    ok,
    ...audit,
    client_retries: retries,
    failures: failures.length,
    seconds,
    ...disrupted,
  });
  assert.ok(ok, `${scenario}: ${JSON.stringify(audit)} ${failures.slice(0, 3).join('; ')}`);
}

async function partWorkers(ctx: Ctx): Promise<void> {
  const [, upSeconds] = await timed(() =>
    ctx.stack.run(['up', '-d', '--wait', '--scale', 'worker=2', '--no-recreate']),
  );
  const workers = await ctx.stack.containers('worker');
  assert.equal(workers.length, 2, 'two worker replicas');
  line('scale', { service: 'worker', replicas: workers.length, seconds: upSeconds });
  await assertHostNetworkOnly(ctx.stack);
  const [, seconds] = await timed(() =>
    burst(ctx, 'worker-killed', async () => {
      const victim = workers[0];
      await docker(['kill', victim]);
      await new Promise((r) => setTimeout(r, 3000));
      await docker(['start', victim]);
      return { killed: victim.slice(0, 12), restarted: true };
    }),
  );
  line('part', { part: 3, name: 'two workers, one killed under a burst', ok: true, seconds });
}

async function restartUnderBurst(ctx: Ctx, service: 'postgres' | 'temporal', part: number): Promise<void> {
  const [, seconds] = await timed(() =>
    burst(ctx, `${service}-restart`, async () => {
      const [id] = await ctx.stack.containers(service);
      const [, restartSeconds] = await timed(() =>
        docker(['restart', '-t', '30', id], { timeoutMs: 120_000 }),
      );
      return { restarted: service, restart_seconds: restartSeconds };
    }),
  );
  line('part', { part, name: `burst across a ${service} restart`, ok: true, seconds });
}

async function partInstaller(ctx: Ctx, xrayBin: string): Promise<void> {
  const tls = await startTlsTarget();
  ctx.closers.push(() => tls.close());
  const { freeBlock } = await import('./stack');
  const base = await freeBlock(3);
  const installed = await installNodeInContainer({
    xrayBin,
    nodePort: base,
    agentPort: base + 1,
    xrayApiPort: base + 2,
    target: `127.0.0.1:${tls.port}`,
    sni: 'reality-target.test',
    location: 'installer',
  });
  line('installer', {
    container: NODE_CONTAINER,
    image: 'local/debian:bookworm',
    mode: 'no-systemd',
    seconds: installed.seconds,
  });
  await assertHostNetworkOnly(ctx.stack, [NODE_CONTAINER]);
  const nodeId = await registerNode(ctx, installed.registration);
  await createTariff(ctx, 'deploy-installer', 'Installer', 'installer');
  const telegramId = 9_300_000_000 + randomInt(1_000_000);
  const since = ctx.telegram.calls().length;
  await buyThroughApi(ctx.api, telegramId, 'deploy-installer');
  const config = await until(
    async () => {
      const res = await ctx.api.call('GET', `/api/v1/subscriptions/${telegramId}/config`);
      return res.status === 200 ? (res.body as { vless_url: string }) : false;
    },
    'the key of the installer-node purchase',
    120_000,
    1000,
  );
  void since;
  const traffic = await trafficThrough(ctx, config.vless_url);
  line('traffic', { node: 'installer-node', node_id: nodeId, bytes: traffic.bytes, ok: true });
  line('part', { part: 5, name: 'installer on a fresh Debian container', ok: true });
}

// ---- main -------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  line('dockerd', { state: await ensureDockerd() });
  line('compose', { version: COMPOSE_VERSION, state: ensureCompose() });
  for (const l of ensureBaseImages()) line('image', { image: l.image, state: l.state, seconds: l.seconds });
  line('temporal-server', { version: TEMPORAL_SERVER_VERSION, cache: stageTemporal() });
  const xrayBin = await ensureXrayBinary();

  const secrets = newSecrets();
  const telegram = await startTelegramEmulator();
  const yookassa = await startYooKassaEmulator({
    shopId: secrets.shopId,
    secretKey: secrets.yookassaSecret,
    // Redelivery, as YooKassa does, for notices sent while the API is restarting or unreachable.
    webhookRetry: { maxAttempts: 20, initialDelayMs: 500 },
  });
  const httpTarget = await startHttpTarget();
  const ports = await pickPorts();
  const env = writeEnvFile({
    ports,
    secrets,
    yookassaUrl: yookassa.url,
    telegramUrl: telegram.url,
    botToken: telegram.token,
  });
  const stack = new ComposeStack(PROJECT, ENV_FILE, {});
  const ctx: Ctx = {
    stack,
    api: apiClient(`http://127.0.0.1:${ports.api}`, secrets.apiToken),
    adminToken: secrets.adminToken,
    databaseUrl: `postgresql://vpn:${env.POSTGRES_PASSWORD}@127.0.0.1:${ports.pg}/vpn`,
    yookassa,
    telegram,
    httpTarget,
    closers: [() => httpTarget.close(), () => yookassa.close(), () => telegram.close()],
  };
  let failed: unknown;
  try {
    // Leftovers of an interrupted run go first (idempotence).
    await removeNodeContainer();
    await stack.run(['down', '-v', '--remove-orphans', '--timeout', '10']);
    const [, buildSeconds] = await timed(() => stack.run(['build'], 1_800_000));
    line('build', { services: ['temporal', 'migrate', 'worker', 'api', 'bot'], seconds: buildSeconds });
    yookassa.setWebhookUrl(`${ctx.api.url}/api/v1/payments/webhook`);
    const [, upSeconds] = await timed(() => stack.run(['up', '-d', '--wait', '--wait-timeout', '300']));
    const containers = await assertHostNetworkOnly(stack);
    const health = await ctx.api.call('GET', '/health');
    assert.equal(health.status, 200, JSON.stringify(health.body));
    line('up', { containers, network: 'host', health: health.body, seconds: upSeconds });
    line('part', { part: 1, name: 'images, real Temporal server on PostgreSQL, compose up', ok: true });

    if (parts.has('2')) await partPurchase(ctx);
    else {
      await createTariff(ctx, 'deploy-30d', 'Deploy');
    }
    if (parts.has('3')) await partWorkers(ctx);
    if (parts.has('4')) {
      await restartUnderBurst(ctx, 'postgres', 4);
      await restartUnderBurst(ctx, 'temporal', 4);
    }
    if (parts.has('5')) await partInstaller(ctx, xrayBin);
  } catch (e) {
    failed = e;
    line('failure', { error: String((e as Error).stack ?? e).slice(0, 4000) });
    for (const service of ['temporal', 'migrate', 'worker', 'api', 'bot']) {
      process.stderr.write(`--- ${service} ---\n${await stack.logs(service, 40)}\n`);
    }
    if (process.argv.includes('--keep-on-failure')) {
      // For debugging: the stack and the host node stay up until this process gets SIGUSR2.
      line('kept', { pid: process.pid, resume: `kill -USR2 ${process.pid}` });
      await new Promise((resolve) => process.once('SIGUSR2', resolve));
    }
  } finally {
    const [, downSeconds] = await timed(async () => {
      await removeNodeContainer();
      await stack.run(['down', '-v', '--remove-orphans', '--timeout', '20']).catch((e) => {
        failed ??= e;
      });
      for (const close of ctx.closers.reverse()) await close().catch(() => undefined);
      rmSync(path.join(ROOT, 'deploy', 'temporal', 'bin'), { recursive: true, force: true });
    });
    const left = (
      await docker(['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`])
    ).trim();
    const volumes = (
      await docker(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`])
    ).trim();
    line('teardown', {
      containers_left: left ? left.split('\n').length : 0,
      volumes_left: volumes ? volumes.split('\n').length : 0,
      seconds: downSeconds,
    });
    if (left || volumes) failed ??= new Error('containers or volumes left behind');
  }
  const ok = !failed;
  line('summary', { ok, seconds: Math.round((Date.now() - started) / 1000) });
  if (!ok) {
    process.stderr.write(`test:deploy failed: ${(failed as Error).message ?? failed}\n`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((e) => {
  line('failure', { error: String(e?.stack ?? e) });
  process.exit(1);
});
