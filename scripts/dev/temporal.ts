import { existsSync } from 'node:fs';
import path from 'node:path';
import { findOrInstallTemporalCli } from '../../infra/local/temporal-cli';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../infra/temporal';
import type { Supervisor } from './children';
import { step } from './log';
import { listening, preferPort } from './ports';

export interface DevTemporal {
  address: string;
  uiUrl: string;
  cli: string;
}

/**
 * `temporal server start-dev` with its SQLite file in DATA_DIR, so workflow histories survive restarts.
 * The search attributes are passed as flags; should a CLI refuse them on a reused file (already
 * registered), it is started again without them and the worker's idempotent registration covers them.
 */
export async function startDevTemporal(sup: Supervisor, dataDir: string): Promise<DevTemporal> {
  const cli = findOrInstallTemporalCli((line) => step(`temporal: ${line}`));
  const dbFile = path.join(dataDir, 'temporal.db');
  const reused = existsSync(dbFile);
  const port = await preferPort(7233);
  const uiPort = await preferPort(port === 8233 ? undefined : 8233);
  const base = ['server', 'start-dev', '--db-filename', dbFile, '--port', String(port)];
  const args = [...base, '--ui-port', String(uiPort), '--ip', '127.0.0.1', '--log-level', 'warn'];
  const attrs = SEARCH_ATTRIBUTE_FLAGS.flatMap((flag) => ['--search-attribute', flag]);
  step(
    `temporal: ${cli} server start-dev (${reused ? 'reusing' : 'creating'} ${dbFile}, port ${port}, UI ${uiPort})`,
  );
  let child = sup.spawn('temporal', cli, [...args, ...attrs], { watch: false });
  try {
    await listening(child, port, 60_000);
  } catch (err) {
    if (!reused || child.running()) throw err;
    step('temporal: exited on the reused database; starting again without --search-attribute');
    sup.forget(child);
    child = sup.spawn('temporal', cli, args, { watch: false });
    await listening(child, port, 60_000);
  }
  sup.watch(child);
  return { address: `127.0.0.1:${port}`, uiUrl: `http://127.0.0.1:${uiPort}`, cli };
}
