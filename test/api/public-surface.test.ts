import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');
const CADDYFILE = path.join(ROOT, 'deploy/caddy/Caddyfile');

interface Block {
  matcher: string | null;
  directives: string[];
}

/** The `handle` blocks of the site block: each one's path matcher and the directives inside it. */
function handleBlocks(text: string): { blocks: Block[]; outside: string[] } {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
  const blocks: Block[] = [];
  const outside: string[] = [];
  let current: Block | null = null;
  let depth = 0;
  for (const line of lines) {
    const opens = line.endsWith('{');
    if (depth === 1 && opens && /^handle(\s|$|\{)/.test(line)) {
      const m = /^handle\s+(\S+)\s*\{$/.exec(line);
      current = { matcher: m ? m[1] : null, directives: [] };
      blocks.push(current);
    } else if (line === '}') {
      if (depth === 2) current = null;
    } else if (current) current.directives.push(line);
    else if (depth >= 1) outside.push(line);
    depth += opens ? 1 : line === '}' ? -1 : 0;
  }
  assert.equal(depth, 0, 'balanced braces');
  return { blocks, outside };
}

describe('deploy: the public reverse proxy publishes only /sub/*, the payment webhook and the Telegram webhook', () => {
  const { blocks, outside } = handleBlocks(readFileSync(CADDYFILE, 'utf8'));

  it('routes exactly those three locations to the API and the bot', () => {
    const published = blocks
      .filter((b) => b.matcher !== null)
      .map((b) => [b.matcher, b.directives.join('; ')]);
    assert.deepEqual(published, [
      ['/sub/*', 'reverse_proxy 127.0.0.1:8080'],
      ['/api/v1/payments/webhook', 'reverse_proxy 127.0.0.1:8080'],
      ['/telegram/webhook', 'reverse_proxy 127.0.0.1:8081'],
    ]);
  });

  it('answers 404 for everything else and proxies nothing outside those blocks', () => {
    const fallback = blocks.filter((b) => b.matcher === null);
    assert.deepEqual(
      fallback.map((b) => b.directives),
      [['respond "not found" 404']],
    );
    assert.deepEqual(outside, [], 'no directive outside the handle blocks (no catch-all reverse_proxy)');
  });

  it('is the file the operations guide tells operators to install', () => {
    const guide = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
    assert.match(guide, /deploy\/caddy\/Caddyfile/);
    assert.doesNotMatch(guide, /handle \{\s*reverse_proxy 127\.0\.0\.1:8080/, 'no catch-all example left');
  });
});
