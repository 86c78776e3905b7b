import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../logger';

const run = promisify(execFile);
const log = createLogger('sing-box-binary');

/** The sing-box release the subscription's sing-box profile is checked against (tests only; never shipped). */
export const SING_BOX_VERSION = 'v1.14.1';
const SING_BOX_MODULE = 'github.com/sagernet/sing-box/cmd/sing-box';
/** uTLS for the Reality fingerprint; QUIC and gVisor as the release builds have them. */
const SING_BOX_TAGS = 'with_utls,with_quic,with_gvisor';

export function singBoxCacheDir(): string {
  return process.env.SING_BOX_CACHE_DIR || path.join(homedir(), '.cache', 'vpn-sing-box');
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findGo(): string {
  for (const candidate of ['/usr/local/go/bin/go', '/usr/lib/go/bin/go']) {
    if (existsSync(candidate)) return candidate;
  }
  return 'go';
}

async function buildWithGo(gobin: string): Promise<void> {
  log.info({ version: SING_BOX_VERSION }, 'building sing-box with go install (first run only, ~2 min)');
  await mkdir(gobin, { recursive: true });
  try {
    await run(findGo(), ['install', '-tags', SING_BOX_TAGS, `${SING_BOX_MODULE}@${SING_BOX_VERSION}`], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 20 * 60_000,
    });
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string };
    if (err.code === 'ENOENT')
      throw new Error('sing-box is not installed and Go is not available: set SING_BOX_BIN');
    throw new Error(`go install ${SING_BOX_MODULE}@${SING_BOX_VERSION} failed: ${err.stderr || err.message}`);
  }
}

let build: Promise<void> | undefined;

/**
 * Path to a runnable sing-box: $SING_BOX_BIN if executable, else the cached build under
 * ~/.cache/vpn-sing-box ($SING_BOX_CACHE_DIR), else build it once with `go install` and cache it.
 */
export async function ensureSingBoxBinary(): Promise<string> {
  const fromEnv = process.env.SING_BOX_BIN;
  if (fromEnv && (await isExecutable(fromEnv))) return fromEnv;
  const dir = singBoxCacheDir();
  const cached = path.join(dir, 'sing-box');
  if (await isExecutable(cached)) return cached;
  const gobin = path.join(dir, 'gobin');
  const built = path.join(gobin, 'sing-box');
  if (!(await isExecutable(built))) {
    build ??= buildWithGo(gobin).finally(() => {
      build = undefined;
    });
    await build;
  }
  // Copy then rename so a concurrent reader never sees a half-written binary.
  const tmp = `${cached}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await copyFile(built, tmp);
  await chmod(tmp, 0o755);
  await rename(tmp, cached);
  return cached;
}

export async function singBoxVersion(bin: string): Promise<string> {
  const { stdout } = await run(bin, ['version'], { timeout: 10_000 });
  const match = /sing-box version (\S+)/.exec(stdout);
  if (!match) throw new Error(`unexpected "sing-box version" output: ${stdout.slice(0, 200)}`);
  return match[1];
}
