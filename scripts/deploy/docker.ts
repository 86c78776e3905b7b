// Docker plumbing for scripts/deploy/test-deploy.ts: the daemon, Compose v2, the cached images, the
// project's compose stack and its containers. Everything shells out to the real docker CLI.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(os.homedir(), '.cache', 'vpn-deploy');

export const COMPOSE_VERSION = 'v2.40.3';
const COMPOSE_PLUGIN = path.join(os.homedir(), '.docker', 'cli-plugins', 'docker-compose');
/** Compose and the Temporal server need a newer Go than the machine's; the go command fetches it. */
const GO_TOOLCHAIN = 'go1.27.3';

export async function docker(
  args: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, {
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, COMPOSE_BAKE: 'false' },
  });
  return stdout;
}

async function daemonUp(): Promise<boolean> {
  return docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
}

/** Starts dockerd without any bridge (test traffic stays on loopback) unless one already runs. */
export async function ensureDockerd(): Promise<'running' | 'started'> {
  if (await daemonUp()) return 'running';
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
    throw new Error('dockerd is missing: apt-get install docker.io');
  }
  mkdirSync(CACHE, { recursive: true });
  const log = openSync(path.join(CACHE, 'dockerd.log'), 'a');
  const child = spawn('dockerd', ['--bridge=none', '--iptables=false'], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  for (let i = 0; i < 60; i++) {
    if (await daemonUp()) return 'started';
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`dockerd did not start; see ${path.join(CACHE, 'dockerd.log')}`);
}

/** Compose v2 from its Go module (Debian ships only 1.29, which rejects the file), cached once built. */
export function ensureCompose(): 'cached' | 'built' {
  const cached = path.join(os.homedir(), '.cache', 'vpn-compose', `docker-compose-${COMPOSE_VERSION}`);
  let state: 'cached' | 'built' = 'cached';
  if (!existsSync(cached)) {
    state = 'built';
    const env = { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN };
    const json = execFileSync(
      'go',
      ['mod', 'download', '-json', `github.com/docker/compose/v2@${COMPOSE_VERSION}`],
      {
        env,
        cwd: os.tmpdir(),
        encoding: 'utf8',
      },
    );
    const src = path.join(os.tmpdir(), `compose-src-${process.pid}`);
    execFileSync('cp', ['-r', (JSON.parse(json) as { Dir: string }).Dir, src]);
    execFileSync('chmod', ['-R', 'u+w', src]);
    // `go install` refuses the module's exclude directives; a build inside the module dir accepts them.
    const ldflags = `-X github.com/docker/compose/v2/internal.Version=${COMPOSE_VERSION}`;
    execFileSync('go', ['build', '-ldflags', ldflags, '-o', cached, './cmd'], {
      env,
      cwd: src,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    execFileSync('rm', ['-rf', src]);
  }
  const same = existsSync(COMPOSE_PLUGIN) && statSync(COMPOSE_PLUGIN).size === statSync(cached).size;
  if (!same) {
    mkdirSync(path.dirname(COMPOSE_PLUGIN), { recursive: true });
    copyFileSync(cached, COMPOSE_PLUGIN);
    execFileSync('chmod', ['+x', COMPOSE_PLUGIN]);
  }
  execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
  return state;
}

export interface ImageLine {
  event: 'image';
  image: string;
  state: 'cached' | 'built';
  seconds: number;
}

/** deploy/images/build.sh: the local stand-ins for the registry images (kept between runs). */
export function ensureBaseImages(): ImageLine[] {
  const out = execFileSync('bash', [path.join(ROOT, 'deploy', 'images', 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: ROOT,
  });
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ImageLine);
}

export class ComposeStack {
  constructor(
    readonly project: string,
    readonly envFile: string,
    readonly env: Record<string, string>,
  ) {}

  private base(): string[] {
    return [
      'compose',
      '-p',
      this.project,
      '--project-directory',
      ROOT,
      '-f',
      path.join(ROOT, 'docker-compose.yml'),
      '-f',
      path.join(ROOT, 'deploy', 'compose.test.yml'),
      '--env-file',
      this.envFile,
    ];
  }

  async run(args: string[], timeoutMs = 600_000): Promise<string> {
    try {
      const { stdout } = await execFileAsync('docker', [...this.base(), ...args], {
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        cwd: ROOT,
        env: { ...process.env, ...this.env, COMPOSE_BAKE: 'false', DOCKER_BUILDKIT: '1' },
      });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`docker compose ${args.join(' ')}: ${(err.stderr ?? err.message).trim().slice(-4000)}`);
    }
  }

  /** Container ids of one service (or all), running or not. */
  async containers(service?: string): Promise<string[]> {
    const out = await this.run(['ps', '-a', '-q', ...(service ? [service] : [])], 60_000);
    return out.split('\n').filter(Boolean);
  }

  async logs(service: string, tail = 80): Promise<string> {
    return this.run(['logs', '--no-color', '--tail', String(tail), service], 60_000).catch((e) => String(e));
  }
}

export interface ContainerNetwork {
  name: string;
  networkMode: string;
  networks: string[];
}

/** Every container of the project with its network mode and the networks it is attached to. */
export async function containerNetworks(ids: string[]): Promise<ContainerNetwork[]> {
  if (ids.length === 0) return [];
  const out = await docker(['inspect', ...ids]);
  const rows = JSON.parse(out) as Array<{
    Name: string;
    HostConfig: { NetworkMode: string };
    NetworkSettings: { Networks: Record<string, unknown> };
  }>;
  return rows.map((r) => ({
    name: r.Name.replace(/^\//, ''),
    networkMode: r.HostConfig.NetworkMode,
    networks: Object.keys(r.NetworkSettings.Networks ?? {}),
  }));
}

/** The rule of this machine: host networking only. Returns the offenders. */
export function offNetwork(rows: ContainerNetwork[]): ContainerNetwork[] {
  return rows.filter((r) => r.networkMode !== 'host' || r.networks.some((n) => n !== 'host'));
}
