import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PurchaseSystem } from '../support/system';
import { insertNode, insertUser } from './fixtures';
import { ADMIN_TOKEN, API_TOKEN, type ApiHarness, METRICS_TOKEN, startApiOnSystem } from './harness';

/** schemathesis from `python3 -m pip install schemathesis` (.ci/run); the scripts dir may not be on PATH. */
function schemathesisBin(): string {
  const scripts = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'])
    .toString()
    .trim();
  return path.join(scripts, 'schemathesis');
}

const MAX_EXAMPLES = process.env.FUZZ_MAX_EXAMPLES ?? '25';

/**
 * Fuzzes /openapi.json with schemathesis (`--checks all`) against the real API on real PostgreSQL and Temporal:
 * every answer must be documented, no input may cause a 5xx, schema-valid input is accepted.
 */
describe('api: schemathesis fuzzing of the OpenAPI document', function () {
  this.timeout(600_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  let dir: string;

  before(async () => {
    // Loaded only now: it pulls in the workers and the workflow bundle.
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    // A real worker and the YooKassa emulator: a purchase the fuzzer starts is a real one (201), not a 503.
    sys = new PurchaseSystem({ withNode: false });
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys);
    // A little data so lookups also find something: seeded tariffs, a known user, a node.
    await insertUser(sys.orm, 1);
    await insertNode(sys.orm, 'fuzz-node');
    dir = mkdtempSync(path.join(tmpdir(), 'fuzz-'));
    writeFileSync(
      path.join(dir, 'schemathesis.toml'),
      [
        `[auth.openapi.apiToken]`,
        `bearer = "${API_TOKEN}"`,
        `[auth.openapi.adminToken]`,
        `bearer = "${ADMIN_TOKEN}"`,
        `[auth.openapi.metricsToken]`,
        `bearer = "${METRICS_TOKEN}"`,
        // A schema-valid request may still be refused by business rules the schema cannot express:
        // an unknown id (404), a conflict the body names (409), a promo code or gift outside its validity
        // window, e.g. one the fuzzer itself created with a past valid_until (410), a rule on a valid value
        // (422), a limit (429).
        `[checks.positive_data_acceptance]`,
        `expected-statuses = ["2xx", "401", "403", "404", "409", "410", "422", "429"]`,
      ].join('\n'),
    );
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  it('finds no server error and no mismatch with the document', async () => {
    const args = [
      '--config-file',
      path.join(dir, 'schemathesis.toml'),
      'run',
      `${api.url}/openapi.json`,
      '--checks',
      'all',
      '--max-examples',
      MAX_EXAMPLES,
      '--phases',
      'examples,coverage,fuzzing',
      // One worker: Hypothesis' lambda-source cache is not thread-safe (a KeyError inside it was seen with 2).
      '--workers',
      '1',
      '--seed',
      '1',
      '--request-timeout',
      '20',
      '--max-time',
      process.env.FUZZ_MAX_TIME ?? '150',
      '--report',
      'json',
      '--report-dir',
      dir,
    ];
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        schemathesisBin(),
        args,
        // cwd: schemathesis keeps a .schemathesis cache in its working directory.
        { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    if (code !== 0) {
      writeFileSync(path.join(dir, 'output.txt'), output);
      // The API's own error lines explain a 5xx better than the fuzzer can.
      const errors = api.logs.filter((l) => Number(l.level) >= 50);
      writeFileSync(path.join(dir, 'api-errors.json'), JSON.stringify(errors, null, 2));
    }
    // The figures of the run (operations tested, cases generated) in the test log.
    for (const line of output.split('\n').filter((l) => /Tested:|generated/.test(l)))
      console.log(`    ${line.trim()}`);
    assert.equal(
      code,
      0,
      `schemathesis failed (full output in ${dir}/output.txt):\n${output.slice(-20_000)}`,
    );
    assert.match(output, /Tested: \d+/, 'schemathesis tested the operations');
    assert.doesNotMatch(output, /\d+ failures?\b/, 'no failure in the summary');
  });
});
