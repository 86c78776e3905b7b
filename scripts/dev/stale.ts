import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { STOP_ORDER } from './children';
import { step } from './log';

interface PidFile {
  owner?: number;
  children?: { name: string; pid: number; args?: string[] }[];
}

function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Running, and not a zombie waiting for a parent that is gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stopPid(pid: number, name: string): Promise<void> {
  step(`stopping ${name} (pid ${pid}) left over from a previous run`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Refuses a second `npm run dev` on the same DATA_DIR, and stops processes a previous run left behind
 * when it was killed without a chance to clean up (SIGKILL, a closed terminal). A pid counts only if its
 * command line is still the one we started, so a reused pid is never touched.
 */
export async function cleanUpPreviousRun(pidFile: string, dataDir: string): Promise<void> {
  if (existsSync(pidFile)) {
    let saved: PidFile = {};
    try {
      saved = JSON.parse(readFileSync(pidFile, 'utf8')) as PidFile;
    } catch {}
    const owner = saved.owner && saved.owner !== process.pid ? cmdline(saved.owner) : undefined;
    if (owner?.some((arg) => arg.includes(path.join('scripts', 'dev')))) {
      throw new Error(`another "npm run dev" (pid ${saved.owner}) uses ${dataDir}; stop it first`);
    }
    // PostgreSQL is left to startDevPostgres, which stops a leftover server with pg_ctl.
    const leftovers = (saved.children ?? []).filter((c) => c.name !== 'postgres');
    leftovers.sort((a, b) => STOP_ORDER.indexOf(a.name) - STOP_ORDER.indexOf(b.name));
    for (const child of leftovers) {
      const args = cmdline(child.pid);
      if (!args || !child.args) continue;
      if (args.slice(-child.args.length).join('\0') === child.args.join('\0'))
        await stopPid(child.pid, child.name);
    }
  }
  // Xray runs under the agent; if the agent was SIGKILLed, Xray keeps our config file open.
  const xrayConfig = path.join(dataDir, 'node', 'xray.json');
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (cmdline(pid)?.includes(xrayConfig)) await stopPid(pid, 'xray');
  }
}
