// Contracts point one way (issue 11): production code never reaches into test/, and activities never import a
// workflow body or the bot. Reads the sources as text, so it runs in milliseconds in the fast layer.
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
});
