import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../logger';

const run = promisify(execFile);
const log = createLogger('xray-binary');

/** The Xray-core release we build and test against (v26.3.27). */
export const XRAY_MODULE_VERSION = 'v1.260327.0';
const XRAY_MODULE = 'github.com/xtls/xray-core/main';

export function xrayCacheDir(): string {
  return process.env.XRAY_CACHE_DIR || path.join(homedir(), '.cache', 'vpn-xray');
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Copy then rename so a concurrent reader never sees a half-written binary. */
async function installCopy(from: string, to: string): Promise<void> {
  const tmp = `${to}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await copyFile(from, tmp);
  await chmod(tmp, 0o755);
  await rename(tmp, to);
}

function findGo(): string {
  for (const candidate of ['/usr/local/go/bin/go', '/usr/lib/go/bin/go']) {
    if (existsSync(candidate)) return candidate;
  }
  return 'go'; // rely on PATH
}

async function buildWithGo(gobin: string): Promise<void> {
  log.info({ version: XRAY_MODULE_VERSION }, 'building Xray with go install (first run only)');
  await mkdir(gobin, { recursive: true });
  try {
    await run(findGo(), ['install', `${XRAY_MODULE}@${XRAY_MODULE_VERSION}`], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 15 * 60_000,
    });
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string };
    if (err.code === 'ENOENT') throw new Error('Xray is not installed and Go is not available: set XRAY_BIN');
    throw new Error(`go install ${XRAY_MODULE}@${XRAY_MODULE_VERSION} failed: ${err.stderr || err.message}`);
  }
}

/** In-flight builds per cache dir, so concurrent callers share one `go install`. */
const builds = new Map<string, Promise<void>>();

/**
 * Path to a runnable Xray: $XRAY_BIN if it exists, else the cached build under ~/.cache/vpn-xray
 * ($XRAY_CACHE_DIR), else build it once with `go install` and cache it.
 */
export async function ensureXrayBinary(): Promise<string> {
  const fromEnv = process.env.XRAY_BIN;
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return fromEnv;
    log.warn({ xrayBin: fromEnv }, 'XRAY_BIN is not an executable file; falling back to the cached build');
  }
  const dir = xrayCacheDir();
  const cached = path.join(dir, 'xray');
  if (await isExecutable(cached)) return cached;
  const gobin = path.join(dir, 'gobin');
  const built = path.join(gobin, 'main'); // go install names the binary after the package dir
  if (!(await isExecutable(built))) {
    let build = builds.get(gobin);
    if (!build) {
      build = buildWithGo(gobin).finally(() => builds.delete(gobin));
      builds.set(gobin, build);
    }
    await build;
  }
  await installCopy(built, cached);
  return cached;
}

export async function xrayVersion(xrayBin: string): Promise<string> {
  const { stdout } = await run(xrayBin, ['version'], { timeout: 10_000 });
  const match = /Xray\s+(\S+)/.exec(stdout);
  if (!match) throw new Error(`unexpected "xray version" output: ${stdout.slice(0, 200)}`);
  return match[1];
}

export interface RealityKeys {
  privateKey: string;
  publicKey: string;
}

/** Parse `xray x25519`; newer builds print "Password (PublicKey):", older ones "Public key:". */
export function parseX25519Output(output: string): RealityKeys {
  const privateKey = /^\s*private\s*key\s*:\s*(\S+)/im.exec(output)?.[1];
  const publicKey = /^\s*(?:public\s*key|password(?:\s*\(\s*public\s*key\s*\))?)\s*:\s*(\S+)/im.exec(
    output,
  )?.[1];
  if (!privateKey || !publicKey)
    throw new Error(`cannot parse "xray x25519" output: ${output.slice(0, 200)}`);
  return { privateKey, publicKey };
}

export async function generateRealityKeys(xrayBin: string): Promise<RealityKeys> {
  const { stdout } = await run(xrayBin, ['x25519'], { timeout: 10_000 });
  return parseX25519Output(stdout);
}

/** A Reality short id: hex, even length, at most 16 chars. */
export function newShortId(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}
