import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Cross-process exclusive lock: the HTTP agent and CLI invocations (over SSH) share one store and one
 * Xray, so their read-modify-write cycles must not interleave.
 *
 * - Taking: the owner tag is written to a private temp file, then hard-linked to the lock path. link()
 *   is atomic and fails when the path exists, so the lock never appears half-written.
 * - Breaking a lock whose owner is dead: the breaker must first create a marker file named after the
 *   exact stale content (O_EXCL), so only one process breaks a given stale lock. It re-reads the lock
 *   under the marker and unlinks only if it still holds that content; a lock taken since then by a live
 *   owner has another tag (tags are unique), so it is never removed by a late breaker.
 * - A marker left by a breaker that died is itself a stale lock and is broken the same way.
 * A live owner's lock is never broken, however old: breaking it would let two writers in.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const tag = ownerTag();
  for (;;) {
    if (await tryCreate(lockPath, tag)) break;
    const current = await readOrNull(lockPath);
    if (current !== null && (await isStale(lockPath, current))) {
      await breakStale(lockPath, current, 0);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockPath}`);
    await sleep(5 + Math.random() * 20);
  }
  try {
    return await fn();
  } finally {
    // Only our own tag is ever removed (a misjudged break elsewhere must not make us delete theirs).
    if ((await readOrNull(lockPath)) === tag) await unlink(lockPath).catch(() => undefined);
  }
}

/** Unique owner tag: pid + boot id + process start time (so a recycled pid is not taken as alive). */
function ownerTag(): string {
  return JSON.stringify({
    pid: process.pid,
    boot: bootId(),
    start: processStart(process.pid),
    token: randomBytes(8).toString('hex'),
  });
}

/** Atomically creates `path` holding `content`; false when it already exists. */
async function tryCreate(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Removes `path` if it still holds `stale`, and only if we win the right to break exactly that content.
 * Returns whether we removed it. `depth` bounds recursion through markers of dead breakers.
 */
async function breakStale(path: string, stale: string, depth: number): Promise<boolean> {
  const marker = `${path}.break-${createHash('sha256').update(stale).digest('hex').slice(0, 24)}`;
  const tag = ownerTag();
  if (!(await tryCreate(marker, tag))) {
    // Another process is breaking this very lock (then we just wait), or died while doing it.
    const other = await readOrNull(marker);
    if (depth < 3 && other !== null && (await isStale(marker, other))) {
      await breakStale(marker, other, depth + 1);
    }
    return false;
  }
  try {
    if ((await readOrNull(path)) !== stale) return false; // already broken and maybe retaken
    await unlink(path).catch(() => undefined);
    return true;
  } finally {
    await unlink(marker).catch(() => undefined);
  }
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

interface Owner {
  pid: number;
  boot?: string | null;
  start?: string | null;
}

function parseOwner(text: string): Owner | undefined {
  // Older agents wrote the bare pid.
  if (/^\d+$/.test(text.trim())) return { pid: Number(text.trim()) };
  try {
    const o = JSON.parse(text) as Owner;
    return Number.isInteger(o.pid) && o.pid > 0 ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Stale = its owner is gone: another boot, no such pid, or the pid now belongs to a newer process. */
async function isStale(path: string, content: string): Promise<boolean> {
  const owner = parseOwner(content);
  if (!owner) {
    // Not ours and not an old agent's: only garbage left by a crash long ago counts as stale.
    const info = await stat(path).catch(() => undefined);
    return info !== undefined && Date.now() - info.mtimeMs > 10_000;
  }
  const boot = bootId();
  if (owner.boot && boot && owner.boot !== boot) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
    return false; // EPERM: alive, another user
  }
  const start = processStart(owner.pid);
  return Boolean(owner.start && start && owner.start !== start);
}

let cachedBootId: string | null | undefined;
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = null; // not Linux: pid liveness alone
    }
  }
  return cachedBootId;
}

/** Start time (clock ticks since boot) from /proc/<pid>/stat, field 22; null where /proc is absent. */
function processStart(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ")".
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
