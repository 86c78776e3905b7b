import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../infra/config';
import { step } from './log';
import { portFree, preferPort } from './ports';
import { cleanUpPreviousRun } from './stale';

/** Checks that need nothing running: DATA_DIR, the user's variables, leftovers of a killed run. */
export async function preflight(): Promise<{ dataDir: string; pidFile: string }> {
  const dataDir = path.resolve(process.env.DATA_DIR?.trim() || '.data');
  step(`DATA_DIR ${dataDir}`);
  // Bad values the user set fail here, in one line, before anything starts.
  parseConfig({
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: process.env.DATABASE_URL || 'postgresql://dev/placeholder',
  });
  mkdirSync(dataDir, { recursive: true });
  const pidFile = path.join(dataDir, 'dev-pids.json');
  await cleanUpPreviousRun(pidFile, dataDir);
  return { dataDir, pidFile };
}

export { ConfigError };

/** API_PORT if given (it must be free), else 8080, else any free port. */
export async function chooseApiPort(): Promise<number> {
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
