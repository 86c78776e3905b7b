import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/activity';
import { nodeHealthWorkflow } from '../../workflows/node-health';
import { FakeShop } from '../support/fake-shop';
import { sleeping, withWorkers } from '../support/time-skipping';

// The durable health loop: a check every interval, forever, surviving failed rounds and its own continue-as-new.

describe('node health loop (unit, time-skipping)', function () {
  this.timeout(60_000);

  it('checks every interval, survives a failed round, and continues as new after 100 rounds', async () => {
    const shop = new FakeShop();
    const base = shop.activities();
    const checkNodes = base.purchases.checkNodes!;
    base.purchases.checkNodes = async (args) => {
      const result = await checkNodes(args);
      if (shop.journal.count('checkNodes') === 3)
        throw ApplicationFailure.nonRetryable('database is down', 'Test');
      return result;
    };
    const intervalMs = 30_000;
    const { firstRunId, runId } = await withWorkers(base, async (w) => {
      const handle = await w.env.client.workflow.start(nodeHealthWorkflow, {
        taskQueue: w.taskQueue,
        workflowId: `node-health-${Date.now()}`,
        args: [{ intervalMs, failuresToDown: 3 }],
      });
      await sleeping(handle);
      await w.env.sleep(101 * intervalMs); // 100 rounds, then the first of the next run
      await sleeping(handle);
      return { firstRunId: handle.firstExecutionRunId, runId: (await handle.describe()).runId };
    });
    const checks = shop.journal.named('checkNodes');
    assert.ok(checks.length >= 101, `a round every interval (${checks.length} in 101 intervals)`);
    assert.ok(checks.every((c) => c.args.failuresToDown === 3));
    const gaps = checks.slice(1).map((c, i) => c.at - checks[i].at);
    assert.ok(
      gaps.every((g) => g >= intervalMs && g < intervalMs + 10_000),
      'one interval apart, also across the failed round and the new run',
    );
    assert.notEqual(runId, firstRunId, 'continued as new, so the history stays short');
  });
});
