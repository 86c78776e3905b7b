// Docker cannot run here, so the deployment files are checked as data: docker-compose.yml, the
// Dockerfile, .dockerignore and .env.example against the config modules and the contract.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { FOREIGN_SECRETS, loadBotConfig } from '../../bot/config';
import { parseConfig } from '../../infra/config';
import {
  CONFIG_MODULES,
  CONTRACT_ENV,
  DEPLOYMENT_ONLY,
  ROOT,
  composeVariables,
  contractEnvFromFile,
  envExample,
  knownToCode,
  read,
  readByProductionCode,
  schemaKeys,
} from './env-names';

interface HealthCheck {
  test: string | string[];
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  restart?: string;
  env_file?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: HealthCheck;
  ports?: (string | { target: number; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
/** What compose interpolates: everything but comment lines. */
const composeCode = composeText
  .split('\n')
  .filter((l) => !/^\s*#/.test(l))
  .join('\n');
const compose = parse(composeText, { merge: true }) as Compose;
const services = compose.services;

const APP_SERVICES = ['worker', 'api', 'bot'];
const ONE_SHOT = new Set(['migrate']);
/** Services that `docker compose up` starts and that must keep running. */
const longRunning = Object.entries(services).filter(
  ([name, s]) => !ONE_SHOT.has(name) && !s.profiles?.length,
);

function env(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(
      s.environment.map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]),
    );
  }
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
}
function dependsOn(s: Service): Record<string, string | undefined> {
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v?.condition]));
}
function words(x: string | string[] | undefined): string {
  return Array.isArray(x) ? x.join(' ') : (x ?? '');
}
const sorted = (xs: Iterable<string>) => [...xs].sort();
/** Compose's merge tags (!reset, !override) as plain values. */
const resetTags = ['!reset', '!override'].flatMap((tag) =>
  (['seq', 'map', 'scalar'] as const).map((collection) => ({
    tag,
    collection: collection === 'scalar' ? undefined : collection,
    resolve: (v: unknown) => v,
  })),
) as never;

describe('deployment: docker-compose.yml', () => {
  it('has postgres, temporal, temporal-ui, migrate, worker, api and bot', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui', 'migrate', 'worker', 'api', 'bot']) {
      assert.ok(services[name], `service ${name} is missing`);
    }
  });

  it('gives every long-running service a restart policy and a healthcheck or a healthy dependency', () => {
    for (const [name, s] of longRunning) {
      assert.equal(s.restart, 'unless-stopped', `${name}: restart`);
      const waitsForHealthy = Object.entries(dependsOn(s)).some(
        ([dep, cond]) => cond === 'service_healthy' && services[dep]?.healthcheck,
      );
      assert.ok(
        s.healthcheck || waitsForHealthy,
        `${name}: no healthcheck and no service_healthy dependency`,
      );
    }
  });

  it('checks the health of postgres, temporal and the API with real probes', () => {
    assert.match(words(services.postgres.healthcheck?.test), /pg_isready/);
    assert.match(
      words(services.temporal.healthcheck?.test),
      /temporal operator (cluster health|namespace describe)|tctl/,
    );
    assert.match(words(services.api.healthcheck?.test), /\/health/);
  });

  it('runs postgres 15 on a named volume', () => {
    assert.match(services.postgres.image ?? '', /^postgres:15/);
    const volumes = (services.postgres.volumes ?? []).map((v) =>
      typeof v === 'string' ? v : `${v.source}:${v.target}`,
    );
    const data = volumes.find((v) => v.endsWith(':/var/lib/postgresql/data'));
    assert.ok(data, 'postgres data volume');
    const source = data.split(':')[0];
    assert.ok(!source.startsWith('.') && !source.startsWith('/'), 'the data volume is a named volume');
  });

  it('declares every named volume and finds every bind-mounted file', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : (v.source ?? '');
        if (source.startsWith('.') || source.startsWith('/')) {
          if (source === './backups') continue; // created by the first backup
          assert.ok(existsSync(path.resolve(ROOT, source)), `${name}: bind mount ${source} does not exist`);
        } else {
          assert.ok(declared.has(source), `${name}: volume ${source} is not declared under volumes:`);
        }
      }
    }
  });

  it('runs the real Temporal server (image from deploy/temporal) on that postgres, after it is healthy', () => {
    const t = services.temporal;
    assert.match(t.image ?? '', /^vpn-seller-temporal:1\.32\./);
    const build = t.build as { context?: string } | undefined;
    assert.equal(build?.context, 'deploy/temporal');
    assert.ok(existsSync(path.join(ROOT, 'deploy/temporal/Dockerfile')));
    const entry = read('deploy/temporal/entrypoint.sh');
    assert.match(entry, /temporal-sql-tool/, 'the entrypoint sets up the schemas');
    assert.match(entry, /update-schema -d "\$schema\/\$2\/versioned"/, 'and upgrades them on every start');
    assert.match(entry, /operator namespace create/, 'and registers the namespace');
    const e = env(t);
    assert.equal(e.DB, 'postgres12');
    assert.equal(e.POSTGRES_SEEDS, 'postgres');
    assert.equal(e.DB_PORT, '5432');
    assert.ok(e.POSTGRES_USER && e.POSTGRES_PWD, 'temporal gets the database credentials');
    assert.equal(dependsOn(t).postgres, 'service_healthy');
    const mount = (t.volumes ?? []).map(String).find((v) => v.endsWith(`:${e.DYNAMIC_CONFIG_FILE_PATH}:ro`));
    assert.ok(mount, 'the dynamic config file is mounted where DYNAMIC_CONFIG_FILE_PATH points');
  });

  it('limits the CPU and memory of every service', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.profiles?.length) continue;
      const limits = (s as { deploy?: { resources?: { limits?: { cpus?: string; memory?: string } } } })
        .deploy?.resources?.limits;
      assert.ok(limits?.cpus && limits?.memory, `${name}: deploy.resources.limits`);
    }
  });

  it('the test override (deploy/compose.test.yml) puts every service on the host network', () => {
    const override = parse(read('deploy/compose.test.yml'), {
      merge: true,
      customTags: resetTags,
    }) as Compose;
    for (const name of Object.keys(services)) {
      const o = override.services[name] as (Service & { network_mode?: string }) | undefined;
      assert.equal(o?.network_mode, 'host', `${name}: network_mode host in the override`);
    }
  });

  it('serves the Temporal UI on 8233 against temporal:7233', () => {
    const ui = services['temporal-ui'];
    assert.match(ui.image ?? '', /^temporalio\/ui:/);
    assert.equal(env(ui).TEMPORAL_ADDRESS, 'temporal:7233');
    assert.ok(
      (ui.ports ?? []).map(String).some((p) => /(^|:)8233:8080$/.test(p)),
      'port 8233 -> 8080',
    );
  });

  it('migrates once (then seeds) before worker, api and bot start', () => {
    const m = services.migrate;
    assert.equal(m.restart, 'no');
    assert.match(words(m.command), /node dist\/infra\/db\/migrate\.js.*&&.*node dist\/infra\/db\/seed\.js/);
    assert.equal(dependsOn(m).postgres, 'service_healthy');
    for (const name of APP_SERVICES) {
      assert.equal(
        dependsOn(services[name]).migrate,
        'service_completed_successfully',
        `${name} waits for migrate`,
      );
    }
  });

  it('runs the compiled entry points of the image, which exist as TypeScript sources', () => {
    const expected: Record<string, string> = {
      migrate: 'dist/infra/db/migrate.js',
      worker: 'dist/workers/main.js',
      api: 'dist/api/main.js',
      bot: 'dist/bot/main.js',
    };
    for (const [name, js] of Object.entries(expected)) {
      assert.match(words(services[name].command), new RegExp(`node ${js.replace(/\./g, '\\.')}`), name);
      const ts = js.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      assert.ok(existsSync(path.join(ROOT, ts)), `${ts} (compiled to ${js}) exists`);
    }
    assert.ok(existsSync(path.join(ROOT, 'infra/db/seed.ts')));
  });

  it('feeds the app services from .env and points them at the in-network services', () => {
    for (const name of ['worker', 'api', 'migrate']) {
      const s = services[name];
      const files = Array.isArray(s.env_file) ? s.env_file : [s.env_file];
      assert.ok(files.includes('.env'), `${name}: env_file .env`);
      assert.ok(s.build, `${name}: built from the Dockerfile`);
      const e = env(s);
      assert.match(
        e.DATABASE_URL ?? '',
        /^postgres(ql)?:\/\/.+@postgres:5432\//,
        `${name}: DATABASE_URL -> postgres`,
      );
      assert.equal(e.TEMPORAL_ADDRESS, 'temporal:7233', `${name}: TEMPORAL_ADDRESS`);
      assert.equal(e.NODE_ENV, 'production', `${name}: NODE_ENV`);
    }
    assert.match(env(services.bot).API_URL ?? '', /^http:\/\/api:/, 'the bot reaches the API in-network');
    for (const name of ['worker', 'api']) assert.equal(dependsOn(services[name]).temporal, 'service_healthy');
    assert.equal(dependsOn(services.bot).api, 'service_healthy');
  });

  it('secrets by role: the bot gets no .env, only its own tokens and settings', () => {
    const bot = services.bot;
    assert.equal(bot.env_file, undefined, 'the bot must not read the whole .env');
    const e = env(bot);
    for (const name of ['BOT_TOKEN', 'API_TOKEN', 'ADMIN_READ_TOKEN', 'API_URL'])
      assert.ok(name in e, `the bot gets ${name}`);
    for (const name of FOREIGN_SECRETS) assert.ok(!(name in e), `the bot must not get ${name}`);
    assert.doesNotMatch(JSON.stringify(e), /POSTGRES_PASSWORD|ADMIN_TOKEN\b|YOOKASSA|AGENT_TOKEN/);
    assert.equal(e.NODE_ENV, 'production');
  });

  it('publishes the API port, on loopback only (a TLS proxy fronts it)', () => {
    const ports = (services.api.ports ?? []).map(String);
    assert.ok(
      ports.some((p) => /^127\.0\.0\.1:\$\{API_PORT:-8080\}:\$\{API_PORT:-8080\}$/.test(p)),
      ports.join(),
    );
    for (const [name, s] of Object.entries(services)) {
      for (const p of (s.ports ?? []).map(String))
        assert.match(p, /^127\.0\.0\.1:/, `${name} publishes ${p} publicly`);
    }
  });

  it('keeps the reverse-proxy gateway of TRUSTED_PROXIES in step with the compose network', () => {
    const gateway = /gateway:\s*([0-9.]+)/.exec(composeText)?.[1];
    assert.ok(gateway, 'the default network has a fixed gateway');
    const trusted = envExample().find((e) => e.name === 'TRUSTED_PROXIES');
    assert.ok(
      trusted?.value.split(',').includes(gateway),
      `.env.example TRUSTED_PROXIES includes ${gateway}`,
    );
  });

  it('gives infrastructure services no app secrets (no env_file)', () => {
    for (const name of ['postgres', 'temporal', 'temporal-ui']) {
      assert.equal(services[name].env_file, undefined, `${name} must not read the whole .env`);
    }
  });

  it('interpolates only variables the code or the deployment knows', () => {
    const known = knownToCode();
    const unknown = sorted(composeVariables(composeCode)).filter(
      (n) => !known.has(n) && !DEPLOYMENT_ONLY.includes(n),
    );
    assert.deepEqual(unknown, [], `docker-compose.yml interpolates names no config module reads: ${unknown}`);
    for (const name of APP_SERVICES) {
      const extra = Object.keys(env(services[name])).filter((k) => !known.has(k));
      assert.deepEqual(extra, [], `${name} sets variables nothing reads`);
    }
  });
});

describe('deployment: .env.example', () => {
  const entries = envExample();
  const names = new Set(entries.map((e) => e.name));

  it('documents every contract variable', () => {
    const fromFile = contractEnvFromFile() ?? [];
    const missing = sorted(new Set([...CONTRACT_ENV, ...fromFile])).filter((n) => !names.has(n));
    assert.deepEqual(missing, []);
  });

  it('documents every variable the config modules and the production code read', () => {
    for (const mod of CONFIG_MODULES.slice(0, 1)) assert.ok(schemaKeys(mod).length > 10, `${mod} parsed`);
    const missing = sorted(readByProductionCode()).filter((n) => !names.has(n));
    assert.deepEqual(missing, [], `add these to .env.example: ${missing}`);
  });

  it('names only variables the code or the deployment reads', () => {
    const known = knownToCode();
    const unknown = sorted(names).filter((n) => !known.has(n) && !DEPLOYMENT_ONLY.includes(n));
    assert.deepEqual(unknown, [], `.env.example documents names nothing reads: ${unknown}`);
  });

  it('lists each deployment-only variable, and the deployment really uses it', () => {
    const deploymentText = [composeText, read('scripts/backup.sh'), read('scripts/restore.sh')].join('\n');
    for (const name of DEPLOYMENT_ONLY) {
      assert.ok(names.has(name), `${name} is in .env.example`);
      assert.ok(new RegExp(`\\b${name}\\b`).test(deploymentText), `${name} is used by compose or scripts`);
    }
  });

  it('defines each variable once, each with a comment above its group', () => {
    const seen = new Map<string, number>();
    for (const e of entries) {
      assert.ok(!seen.has(e.name), `${e.name} twice (lines ${seen.get(e.name)} and ${e.line})`);
      seen.set(e.name, e.line);
    }
    const lines = read('.env.example').split('\n');
    for (const e of entries.filter((x) => !x.commented)) {
      const above = lines.slice(0, e.line - 1).reverse();
      const block = above.slice(0, above.findIndex((l) => l.trim() === '') + 1 || above.length);
      assert.ok(
        block.some((l) => /^#\s+\S/.test(l) && !/^#\s*[A-Z][A-Z0-9_]*=/.test(l)),
        `${e.name} has no comment`,
      );
    }
  });

  it('holds no secrets: every token, password and key is empty', () => {
    const secret = /(TOKEN|SECRET|PASSWORD|API_KEY|SECRET_KEY)$/;
    for (const e of entries.filter((x) => secret.test(x.name))) {
      assert.equal(e.value, '', `${e.name} must be empty in .env.example (line ${e.line})`);
    }
    assert.doesNotMatch(
      read('.env.example'),
      /-----BEGIN|\d{6,}:[A-Za-z0-9_-]{30,}/,
      'no keys or bot tokens',
    );
  });

  it('has values the config modules accept, once the secrets are filled in', () => {
    const values = Object.fromEntries(entries.filter((e) => e.value !== '').map((e) => [e.name, e.value]));
    const filled = {
      ...values,
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://vpn:x@postgres:5432/vpn',
      API_TOKEN: 'a'.repeat(32),
      ADMIN_TOKEN: 'b'.repeat(32),
      BOT_TOKEN: '123456:ABCdef_ghi-jkl',
    };
    assert.doesNotThrow(() => parseConfig(filled));
    assert.doesNotThrow(() => loadBotConfig(filled));
    const webhook = { ...filled, BOT_MODE: 'webhook', TELEGRAM_WEBHOOK_SECRET: 'c'.repeat(32) };
    assert.doesNotThrow(() => loadBotConfig(webhook), 'the example webhook URL is valid too');
  });
});

describe('deployment: Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    image: m[1],
    name: m[2],
  }));

  it('is multi-stage: npm ci, npm run build (dist + workflow bundle), slim runtime', () => {
    assert.ok(stages.length >= 3, 'at least deps, build and runtime stages');
    assert.match(dockerfile, /ARG NODE_IMAGE=node:20-bookworm-slim/);
    assert.match(dockerfile, /npm ci\b/);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /npm run build/);
    assert.match(dockerfile, /dist\/workflow-bundle\.js/);
    assert.match(
      read('package.json'),
      /"build":\s*"[^"]*bundle-workflows/,
      'npm run build writes the bundle',
    );
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtime, /^\s*FROM \$\{NODE_IMAGE\} AS runtime/);
    assert.match(runtime, /COPY --from=build \/app\/dist/);
    assert.match(runtime, /COPY --from=prod-deps \/app\/node_modules/);
    assert.doesNotMatch(runtime, /COPY \. \./, 'the runtime gets dist and production modules only');
  });

  it('runs as the non-root user app, in production mode, the API by default', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtime, /useradd[^\n]*\bapp\b/);
    assert.match(runtime, /^USER app$/m);
    assert.match(runtime, /NODE_ENV=production/);
    assert.match(runtime, /WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
    assert.match(runtime, /^CMD \["node", "dist\/api\/main\.js"\]$/m);
  });

  it('keeps secrets, modules and local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['.env', 'node_modules', 'dist', '.data', '.git']) assert.ok(ignored.includes(p), p);
    assert.ok(ignored.includes('!.env.example'));
  });
});
