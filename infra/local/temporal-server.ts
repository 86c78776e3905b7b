// The real Temporal server (go.temporal.io/server, the production shape) on PostgreSQL, for
// `npm run test:deploy` (its container image) and `BENCH_TEMPORAL=server` (run on the host).
//
//   ensureTemporalServer()      builds once with `go install` (slow: minutes on 2 cores) and caches in
//                               ~/.cache/vpn-temporal-server/<version>: temporal-server, temporal-sql-tool,
//                               the temporal CLI and the PostgreSQL schemas from the same module.
//   setupTemporalSchema(pg)     what temporalio/auto-setup does: create the two databases, set up and
//                               upgrade their schemas (idempotent; upgrades apply only newer versions).
//   startTemporalServer(opts)   schema setup, then `temporal-server start` with the embedded config
//                               (configured by environment), then the namespace; resolves once it serves.
//
//   npx tsx infra/local/temporal-server.ts --print-dir           ensure, print the cache dir
//   npx tsx infra/local/temporal-server.ts --copy-to DIR         ensure, stage the files into DIR (the
//                                                                build context of deploy/temporal/Dockerfile)
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOrInstallTemporalCli } from './temporal-cli';

const execFileAsync = promisify(execFile);

export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
const MODULE = 'go.temporal.io/server';
/** The server needs a newer Go than the machine's; the go command fetches this toolchain itself. */
const GO_TOOLCHAIN = 'go1.27.3';

export interface TemporalServerFiles {
  dir: string;
  server: string;
  sqlTool: string;
  cli: string;
  /** …/schema/postgresql/v12, with temporal/versioned and visibility/versioned below it. */
  schemaDir: string;
}

export function temporalServerCacheDir(version = TEMPORAL_SERVER_VERSION): string {
  return path.join(os.homedir(), '.cache', 'vpn-temporal-server', version);
}

function filesIn(dir: string): TemporalServerFiles {
  return {
    dir,
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    cli: path.join(dir, 'temporal'),
    schemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
}

/** Builds (once) and returns the cached server, sql tool, CLI and schemas. */
export function ensureTemporalServer(log: (line: string) => void = () => undefined): TemporalServerFiles {
  const dir = temporalServerCacheDir();
  const files = filesIn(dir);
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN };
  if (!existsSync(files.server) || !existsSync(files.sqlTool)) {
    const gobin = path.join(dir, '.gobin');
    log(`building ${MODULE} ${TEMPORAL_SERVER_VERSION} with go install (slow, once)…`);
    execFileSync(
      'go',
      [
        'install',
        `${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, GOBIN: gobin }, cwd: os.tmpdir() },
    );
    renameSync(path.join(gobin, 'server'), files.server);
    renameSync(path.join(gobin, 'sql'), files.sqlTool);
    rmSync(gobin, { recursive: true, force: true });
  }
  if (!existsSync(path.join(files.schemaDir, 'temporal', 'versioned'))) {
    // The schemas ship in the module source that go install downloaded.
    const out = execFileSync('go', ['mod', 'download', '-json', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], {
      env,
      cwd: os.tmpdir(),
      encoding: 'utf8',
    });
    const moduleDir = (JSON.parse(out) as { Dir: string }).Dir;
    mkdirSync(path.dirname(files.schemaDir), { recursive: true });
    cpSync(path.join(moduleDir, 'schema', 'postgresql', 'v12'), files.schemaDir, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', path.join(dir, 'schema')]);
  }
  if (!existsSync(files.cli)) copyFileSync(realCliBinary(findOrInstallTemporalCli(log)), files.cli);
  return files;
}

const isElf = (file: string): boolean => {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
};

/** The CLI goes into an image, so it must be the binary itself, not a wrapper such as a pyenv shim. */
function realCliBinary(found: string): string {
  if (isElf(found)) return found;
  const scripts = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
    encoding: 'utf8',
  }).trim();
  const candidate = path.join(scripts, 'temporal');
  if (existsSync(candidate) && isElf(candidate)) return candidate;
  throw new Error(
    `${found} is not the temporal CLI binary (a wrapper script?); set TEMPORAL_CLI to the binary`,
  );
}

/** Copies the server, sql tool, CLI and schemas into `dir` (bin/ of the Temporal image's context). */
export function stageTemporalServer(dir: string, files = ensureTemporalServer()): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(files.server, path.join(dir, 'temporal-server'));
  copyFileSync(files.sqlTool, path.join(dir, 'temporal-sql-tool'));
  copyFileSync(files.cli, path.join(dir, 'temporal'));
  cpSync(path.join(files.dir, 'schema'), path.join(dir, 'schema'), { recursive: true });
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

const DATABASES = [
  { db: 'temporal', schema: 'temporal' },
  { db: 'temporal_visibility', schema: 'visibility' },
] as const;

/** Creates temporal and temporal_visibility (if missing) and brings both schemas to the module's version. */
export async function setupTemporalSchema(files: TemporalServerFiles, pg: PostgresTarget): Promise<void> {
  for (const { db, schema } of DATABASES) {
    const base = [
      '--plugin',
      'postgres12',
      '--ep',
      pg.host,
      '-p',
      String(pg.port),
      '-u',
      pg.user,
      '--db',
      db,
    ];
    const env = { ...process.env, SQL_PASSWORD: pg.password };
    const run = (args: string[]) => execFileAsync(files.sqlTool, [...base, ...args], { env });
    await run(['create-database']).catch((e: { stderr?: string; stdout?: string }) => {
      if (!/already exists/.test(`${e.stderr}${e.stdout}`)) throw e;
    });
    await run(['setup-schema', '-v', '0.0']);
    await run(['update-schema', '-d', path.join(files.schemaDir, schema, 'versioned')]);
  }
}

export interface TemporalServerOptions {
  postgres: PostgresTarget;
  /** Frontend gRPC port; the other services take the next ports (see portsFrom). */
  port: number;
  namespace?: string;
  logFile?: string;
  searchAttributes?: Record<string, 'Keyword' | 'Datetime' | 'Text' | 'Int' | 'Double' | 'Bool'>;
}

export interface RunningTemporalServer {
  address: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The environment of the server's embedded config template, for a frontend on `port`. */
export function temporalServerEnv(opts: TemporalServerOptions): Record<string, string> {
  const p = opts.port;
  return {
    DB: 'postgres12',
    POSTGRES_SEEDS: opts.postgres.host,
    DB_PORT: String(opts.postgres.port),
    POSTGRES_USER: opts.postgres.user,
    POSTGRES_PWD: opts.postgres.password,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(p),
    FRONTEND_HTTP_PORT: String(p + 10),
    FRONTEND_MEMBERSHIP_PORT: String(p + 20),
    HISTORY_GRPC_PORT: String(p + 1),
    HISTORY_MEMBERSHIP_PORT: String(p + 21),
    MATCHING_GRPC_PORT: String(p + 2),
    MATCHING_MEMBERSHIP_PORT: String(p + 22),
    WORKER_GRPC_PORT: String(p + 6),
    WORKER_MEMBERSHIP_PORT: String(p + 26),
    INTERNAL_FRONTEND_GRPC_PORT: String(p + 3),
    INTERNAL_FRONTEND_HTTP_PORT: String(p + 13),
    INTERNAL_FRONTEND_MEMBERSHIP_PORT: String(p + 23),
    PPROF_PORT: '0',
    // The embedded template's default is /etc/temporal/config/dynamicconfig/docker.yaml (the image's path);
    // on the host, the same file compose mounts.
    DYNAMIC_CONFIG_FILE_PATH: path.resolve(__dirname, '..', 'deploy', 'temporal', 'dynamicconfig.yaml'),
    PROMETHEUS_ENDPOINT: `127.0.0.1:${p + 30}`,
    LOG_LEVEL: 'warn',
  };
}

/** Schema, server, namespace: a production-shape Temporal on the given PostgreSQL. */
export async function startTemporalServer(opts: TemporalServerOptions): Promise<RunningTemporalServer> {
  const files = ensureTemporalServer();
  await setupTemporalSchema(files, opts.postgres);
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(files.server, ['--allow-no-auth', 'start'], {
    env: { ...process.env, ...temporalServerEnv(opts) },
    stdio: ['ignore', out, out],
  });
  const address = `127.0.0.1:${opts.port}`;
  const namespace = opts.namespace ?? 'default';
  const cli = (args: string[]) =>
    execFileAsync(files.cli, [...args, '--address', address], { timeout: 20_000 });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`temporal-server exited with ${child.exitCode} (log: ${opts.logFile})`);
    try {
      await cli(['operator', 'namespace', 'describe', '--namespace', namespace]);
      break;
    } catch {
      await cli(['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '72h']).catch(
        () => {},
      );
    }
    if (Date.now() > deadline) throw new Error(`temporal-server did not serve ${address} within 120 s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) {
    await cli([
      'operator',
      'search-attribute',
      'create',
      '--namespace',
      namespace,
      '--name',
      name,
      '--type',
      type,
    ]).catch(() => {});
  }
  return {
    address,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (require.main === module) {
  try {
    const files = ensureTemporalServer((l) => process.stderr.write(`${l}\n`));
    const copyTo = process.argv.indexOf('--copy-to');
    if (copyTo > 0)
      stageTemporalServer(path.resolve(process.argv[copyTo + 1] ?? 'deploy/temporal/bin'), files);
    process.stdout.write(`${process.argv.includes('--print-dir') ? files.dir : JSON.stringify(files)}\n`);
  } catch (e) {
    process.stderr.write(`temporal-server: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
