// Which environment variable names the code knows, and which the deployment files use.
// Shared by the deployment tests; reads the sources as text so no module has to load.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The config modules whose zod schema keys are environment variable names. */
export const CONFIG_MODULES = ['infra/config.ts', 'bot/config.ts', 'infra/agent/config.ts'];

/**
 * Read only by the deployment (docker-compose.yml interpolation, scripts/*.sh), never by the app.
 * Each must really be used there (checked), so this list cannot become a dumping ground.
 */
export const DEPLOYMENT_ONLY = [
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DB',
  'BACKUP_DIR',
  'BACKUP_KEEP_DAYS',
];

/** The contract's Environment section (../shared/contract.md), as of v1. */
export const CONTRACT_ENV = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'API_PORT',
  'PUBLIC_BASE_URL',
  'API_TOKEN',
  'ADMIN_TOKEN',
  'BOT_TOKEN',
  'TELEGRAM_API_ROOT',
  'BOT_MODE',
  'TELEGRAM_WEBHOOK_SECRET',
  'API_URL',
  'SUPPORT_URL',
  'YOOKASSA_SHOP_ID',
  'YOOKASSA_SECRET_KEY',
  'YOOKASSA_API_URL',
  'YOOKASSA_RETURN_URL',
  'YOOKASSA_WEBHOOK_ALLOW',
  'REMIND_BEFORE',
  'PAYMENT_TIMEOUT',
  'DATA_DIR',
  'AGENT_PORT',
  'AGENT_TOKEN',
  'AGENT_DATA_DIR',
  'XRAY_BIN',
  'XRAY_CONFIG',
  'XRAY_API',
  'XRAY_INBOUND_TAG',
];

const NAME = '[A-Z][A-Z0-9_]*';

export function read(rel: string): string {
  return readFileSync(path.join(ROOT, rel), 'utf8');
}

/** Upper-case keys of the object literals in a config module (the zod schema's keys). */
export function schemaKeys(rel: string): string[] {
  if (!existsSync(path.join(ROOT, rel))) return [];
  const keys = new Set<string>();
  for (const m of read(rel).matchAll(new RegExp(`^\\s+(${NAME}):`, 'gm'))) keys.add(m[1]);
  return [...keys];
}

/** .ts files of the project, without node_modules, dist, local state and (optionally) tests. */
export function sourceFiles(withTests: boolean): string[] {
  const skip = new Set(['node_modules', 'dist', '.data', '.git', 'coverage']);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir))) {
      if (skip.has(entry) || entry.startsWith('.')) continue;
      const rel = dir ? `${dir}/${entry}` : entry;
      if (!withTests && (rel === 'test' || rel.startsWith('test/'))) continue;
      const st = statSync(path.join(ROOT, rel));
      if (st.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts')) out.push(rel);
    }
  };
  walk('');
  return out;
}

/** Names read through process.env.<NAME>, process.env['<NAME>'], env.<NAME> or env['<NAME>'] in the given files. */
export function envReads(files: string[]): Set<string> {
  const names = new Set<string>();
  const patterns = [
    new RegExp(`process\\.env\\.(${NAME})\\b`, 'g'),
    new RegExp(`process\\.env\\[['"](${NAME})['"]\\]`, 'g'),
    new RegExp(`\\benv\\.(${NAME})\\b`, 'g'),
    new RegExp(`\\benv\\[['"](${NAME})['"]\\]`, 'g'),
  ];
  for (const file of files) {
    const text = read(file);
    for (const re of patterns) for (const m of text.matchAll(re)) names.add(m[1]);
    // Env readers that take the name as a string (value('X'), required('X')) in env-reading files.
    if (/process\.env|NodeJS\.ProcessEnv/.test(text)) {
      for (const m of text.matchAll(
        /\b(?:value|required|urlOrUndefined|optional)\(\s*['"]([A-Z][A-Z0-9]*_[A-Z0-9_]+)['"]/g,
      )) {
        names.add(m[1]);
      }
    }
  }
  return names;
}

/** Every name the code reads: config schema keys plus direct reads anywhere (tests included). */
export function knownToCode(): Set<string> {
  const known = envReads(sourceFiles(true));
  for (const mod of CONFIG_MODULES) for (const k of schemaKeys(mod)) known.add(k);
  known.delete('PATH');
  // Read by node itself: compose caps the worker's heap with it.
  known.add('NODE_OPTIONS');
  return known;
}

/** The names production code requires to be documented: config schema keys and non-test direct reads. */
export function readByProductionCode(): Set<string> {
  const names = envReads(sourceFiles(false));
  for (const mod of CONFIG_MODULES) for (const k of schemaKeys(mod)) names.add(k);
  names.delete('PATH');
  return names;
}

export interface EnvExampleEntry {
  name: string;
  value: string;
  commented: boolean;
  line: number;
}

/** `NAME=value` and `# NAME=value` lines of .env.example. */
export function envExample(): EnvExampleEntry[] {
  const entries: EnvExampleEntry[] = [];
  read('.env.example')
    .split('\n')
    .forEach((text, i) => {
      const m = new RegExp(`^(#\\s*)?(${NAME})=(.*)$`).exec(text);
      if (m) entries.push({ name: m[2], value: m[3], commented: Boolean(m[1]), line: i + 1 });
    });
  return entries;
}

/** ${VAR}, ${VAR:-x}, ${VAR:?msg} interpolations; $${VAR} is an escaped literal for the container shell. */
export function composeVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(new RegExp(`(?<!\\$)\\$\\{(${NAME})(?:[:?-][^}]*)?\\}`, 'g')))
    names.add(m[1]);
  for (const m of text.matchAll(new RegExp(`(?<![$\\\\])\\$(${NAME})\\b`, 'g'))) names.add(m[1]);
  return names;
}

/** Backticked env names in the contract's "## Environment" section, if the shared contract is at hand. */
export function contractEnvFromFile(): string[] | undefined {
  const file = path.resolve(ROOT, '..', 'shared', 'contract.md');
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const section = /## Environment[^\n]*\n([\s\S]*?)(?=\n## )/.exec(text)?.[1];
  if (!section) return undefined;
  return [...new Set([...section.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`/g)].map((m) => m[1]))];
}
