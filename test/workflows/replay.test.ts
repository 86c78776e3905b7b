import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { HISTORY_DIR } from '../support/histories';
import { workflowBundle } from '../support/system';

// Histories recorded from real runs (RECORD_HISTORIES=1 npm test). A change that would break
// sleeping subscriptions or in-flight purchases fails here: guard it with patched().
describe('replay: recorded histories still replay on the current workflow code', function () {
  this.timeout(120_000);

  it('replays every fixture without non-determinism', async () => {
    const files = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 5, `expected recorded histories in ${HISTORY_DIR}`);
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, f), 'utf8'))),
    }));
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: await workflowBundle() } },
      histories,
    );
    let count = 0;
    for await (const r of results) {
      assert.equal(r.error, undefined, `${r.workflowId}: ${r.error}`);
      count++;
    }
    assert.equal(count, files.length);
  });
});
