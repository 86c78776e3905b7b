/**
 * `npm run dev`: the whole system on this machine, on embedded defaults. Temporal dev server (SQLite in
 * DATA_DIR), PostgreSQL (DATA_DIR/pg), migrations + seed, the YooKassa emulator, a local VPN node when
 * Xray is available, then worker, API and (with BOT_TOKEN) the bot. Whatever is configured in the
 * environment (DATABASE_URL, TEMPORAL_ADDRESS, YOOKASSA_SHOP_ID, tokens...) is used instead.
 * Ctrl-C stops everything in reverse order; the next run reuses DATA_DIR. See scripts/dev/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

/** Every dependency in package.json present under node_modules; otherwise `npm ci`. */
function ensureNodeModules(): void {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, object>;
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  const missing = names.filter((n) => !existsSync(path.join(root, 'node_modules', n, 'package.json')));
  if (missing.length === 0) {
    process.stdout.write(`[dev] node_modules: present (${names.length} packages)\n`);
    return;
  }
  process.stdout.write(
    `[dev] node_modules: ${missing.length} missing (${missing.slice(0, 3).join(', ')}…), running npm ci\n`,
  );
  execFileSync('npm', ['ci'], { cwd: root, stdio: 'inherit' });
}

ensureNodeModules();
process.stdout.on('error', () => undefined); // a closed terminal must not crash the shutdown
process.stderr.on('error', () => undefined);
// Loaded only now: everything below needs node_modules.
import('./dev/main')
  .then(({ runDev }) => runDev())
  .catch((err: Error) => {
    // Before anything was started: a config error, another dev on the same DATA_DIR, ...
    process.stderr.write(`[dev] ${err.message}\n`);
    process.exit(1);
  });
