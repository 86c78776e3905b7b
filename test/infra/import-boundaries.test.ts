// Contracts point one way (issue 11): production code never reaches into test/, activities never import a
// workflow body or the bot, and a workflow type is named by string only where workflows/ defines it.
// Reads the sources as text, so it runs in milliseconds in the fast layer.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const PRODUCTION_DIRS = ['scripts', 'api', 'bot', 'workers', 'infra', 'activities', 'workflows'];

// Static `import … from '…'`, `export … from '…'`, side-effect `import '…'`, `import('…')` and `require('…')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sourceFiles(full));
    } else if (/\.(ts|js|mjs|cjs)$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

/** Repository-relative paths of the local modules a file imports (bare package names left out). */
function localImports(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = match[1];
    if (!spec.startsWith('.')) continue;
    found.push(path.relative(ROOT, path.resolve(path.dirname(file), spec)));
  }
  return found;
}

function violations(dirs: string[], isForbidden: (file: string, target: string) => boolean): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    for (const file of sourceFiles(path.join(ROOT, dir))) {
      for (const target of localImports(file, fs.readFileSync(file, 'utf8'))) {
        if (isForbidden(file, target)) out.push(`${path.relative(ROOT, file)} -> ${target}`);
      }
    }
  }
  return out;
}

/** The source without its comment lines (a doc comment may show an example query naming a type). */
const codeOnly = (text: string) =>
  text
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .join('\n');

const underTest = (target: string) => target === 'test' || target.startsWith(`test${path.sep}`);

/** The workflow bodies: what workflows/index.ts (the bundle entry) re-exports, plus the entry itself. */
function workflowBodies(): Set<string> {
  const index = path.join(ROOT, 'workflows', 'index.ts');
  return new Set([path.join('workflows', 'index'), ...localImports(index, fs.readFileSync(index, 'utf8'))]);
}

describe('import boundaries', () => {
  it('finds the imports it is meant to police (self-check of the scanner)', () => {
    const file = path.join(ROOT, 'scripts', 'bench', 'x.ts');
    const text = [
      "import { a } from '../../test/support/system';",
      "import type { B } from '../../infra/local/system';",
      "export * from '../../test/api/harness';",
      "const c = require('../../test/support/xray');",
      "const d = await import('../../test/support/agent');",
      "import 'node:fs';",
    ].join('\n');
    assert.deepEqual(localImports(file, text).filter(underTest), [
      path.join('test', 'support', 'system'),
      path.join('test', 'api', 'harness'),
      path.join('test', 'support', 'xray'),
      path.join('test', 'support', 'agent'),
    ]);
  });

  it('no production file (scripts, api, bot, workers, infra, activities, workflows) imports from test/', () => {
    assert.deepEqual(
      violations(PRODUCTION_DIRS, (_file, target) => underTest(target)),
      [],
      'move what both need to infra/local/ and import it from there',
    );
  });

  it('no activity imports a workflow body or the bot (only the shared *-messages, failures and constants)', () => {
    const bodies = workflowBodies();
    assert.ok(bodies.has(path.join('workflows', 'purchase')), 'the bundle entry lists the purchase workflow');
    assert.deepEqual(
      violations(
        ['activities'],
        (_file, target) => bodies.has(target) || target.startsWith(`bot${path.sep}`),
      ),
      [],
    );
  });

  it('workflow types are named by string only in workflows/ (*_WORKFLOW_TYPE), and each names a workflow', () => {
    const typeLiteral = /['"`]([a-z][A-Za-z]*Workflow)['"`]/g;
    const outside: string[] = [];
    for (const dir of PRODUCTION_DIRS.filter((d) => d !== 'workflows'))
      for (const file of sourceFiles(path.join(ROOT, dir)))
        for (const m of codeOnly(fs.readFileSync(file, 'utf8')).matchAll(typeLiteral))
          outside.push(`${path.relative(ROOT, file)}: ${m[1]}`);
    assert.deepEqual(outside, [], "import the *_WORKFLOW_TYPE constant from the workflow's messages module");

    const workflowSources = sourceFiles(path.join(ROOT, 'workflows')).map((f) => fs.readFileSync(f, 'utf8'));
    const defined = new Set(
      workflowSources.flatMap((t) =>
        [...t.matchAll(/export async function (\w+Workflow)\(/g)].map((m) => m[1]),
      ),
    );
    const constants = workflowSources.flatMap((t) =>
      [...t.matchAll(/export const (\w+_WORKFLOW_TYPE) = '(\w+)'/g)].map((m) => [m[1], m[2]]),
    );
    assert.ok(constants.length >= 10, `found only ${constants.length} *_WORKFLOW_TYPE constants`);
    assert.deepEqual(
      constants.filter(([, type]) => !defined.has(type)).map(([name, type]) => `${name} = '${type}'`),
      [],
      'a *_WORKFLOW_TYPE constant names no exported workflow function',
    );
  });

  it('failure types are named only in the catalogue (workflows/failures.ts), never as a string where thrown', () => {
    // ApplicationFailure.nonRetryable(msg, 'Type'), ApplicationFailure.create({ type: 'Type' }) and
    // type strings in the issue's grep ('XxxRejected', 'XxxMismatch', 'XxxUnavailable', 'XxxNotFound').
    const literalType =
      /nonRetryable\([^;]*?,\s*['"`]([A-Z]\w+)['"`]\s*\)|ApplicationFailure\.create\(\{[^}]*?\btype:\s*['"`]([A-Z]\w+)['"`]|['"`]([A-Z][A-Za-z]*(?:Rejected|Mismatch|Unavailable|NotFound))['"`]/g;
    const catalogue = path.join(ROOT, 'workflows', 'failures.ts');
    const found: string[] = [];
    for (const dir of PRODUCTION_DIRS)
      for (const file of sourceFiles(path.join(ROOT, dir))) {
        if (file === catalogue) continue;
        for (const m of codeOnly(fs.readFileSync(file, 'utf8')).matchAll(literalType))
          found.push(`${path.relative(ROOT, file)}: ${m[1] ?? m[2] ?? m[3]}`);
      }
    assert.deepEqual(found, [], 'add the type to Failure in workflows/failures.ts and use Failure.X');
  });
});
