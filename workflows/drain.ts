import {
  ApplicationFailure,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { drainBookkeeping as book, drainCleanup, drainMove, telegram } from './activity-options';
import { Failure } from './failures';
import { type DrainInput, type DrainProgress, drainProgressQuery } from './drain-messages';
import { drainDetails } from './summaries';

const DEFAULT_MOVE_INTERVAL_MS = 200;
const DEFAULT_BATCH = 20;
// Far below Temporal's limits: a drain of thousands of accesses hands over often, each run small to replay.
const DEFAULT_HISTORY_LIMIT = 400;
/** A purchase that selected the node just before the drain began may still commit there: look again. */
const RECHECK_MS = 5_000;

/**
 * Drain of one node (`drain-<node id>`): out of selection, every access moved to another node of its
 * location at a bounded rate and its user told once, the old clients removed, the node `disabled`.
 * All progress is in PostgreSQL, so a restarted worker (or the next run after continue-as-new) resumes it.
 */
export async function drainNodeWorkflow(input: DrainInput): Promise<DrainProgress> {
  const progress: DrainProgress = { state: 'running', moved: 0, remaining: 0, failed: 0 };
  setHandler(drainProgressQuery, () => progress);
  // The Temporal UI's "current details": what the drain waits for (not a command: replay-safe).
  const describe = (waiting: string) =>
    setCurrentDetails(
      (input.summary ? `${input.summary}\n` : '') + drainDetails(progress.state, progress, waiting),
    );
  describe('taking the node out of selection');

  const begun = await book.beginDrain({
    nodeId: input.nodeId,
    workflowId: workflowInfo().workflowId,
    reason: input.reason ?? 'admin',
    resumed: input.resumed === true,
  });
  if (!begun.exists)
    throw ApplicationFailure.nonRetryable(`node ${input.nodeId} does not exist`, Failure.NodeNotFound);

  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const interval = input.moveIntervalMs ?? DEFAULT_MOVE_INTERVAL_MS;
  for (;;) {
    const batch = await book.drainBatch({ nodeId: input.nodeId, limit: input.batchSize ?? DEFAULT_BATCH });
    Object.assign(progress, {
      moved: batch.moved,
      remaining: batch.remaining,
      failed: batch.failed,
    });
    if (batch.subscriptionIds.length === 0) {
      const end = await book.finishDrain({ nodeId: input.nodeId });
      if (end.state !== 'again') {
        Object.assign(progress, end);
        break;
      }
      describe(
        `all moved; looking again in ${RECHECK_MS / 1000} s for a purchase that picked the node before the drain`,
      );
      await sleep(RECHECK_MS);
      continue;
    }
    const moving =
      `moving the next ${batch.subscriptionIds.length}` + (interval > 0 ? ` (one every ${interval} ms)` : '');
    describe(moving);
    // Messages go out while the next accesses move; the batch ends when all of them are sent.
    const told: Promise<unknown>[] = [];
    for (const subscriptionId of batch.subscriptionIds) {
      told.push((await moveOne(input.nodeId, subscriptionId, progress)).told);
      describe(moving);
      if (interval > 0) await sleep(interval);
    }
    await Promise.all(told);
    if (workflowInfo().historyLength > historyLimit || workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof drainNodeWorkflow>({ ...input, resumed: true });
  }

  if (progress.state === 'done') {
    describe('removing the moved clients from the node');
    await drainCleanup.clearDrainedNode({ nodeId: input.nodeId }).catch(() => undefined);
  }
  describe(
    progress.state === 'done'
      ? 'done: the node is disabled'
      : 'done with failures: the node stays out of selection with those accesses',
  );
  return progress;
}

/** Moves one access; answers its user's message, under way (wrapped, so awaiting the move does not wait for it). */
async function moveOne(
  nodeId: string,
  subscriptionId: string,
  progress: DrainProgress,
): Promise<{ told: Promise<unknown> }> {
  let told: Promise<unknown> = Promise.resolve();
  try {
    const r = await drainMove.moveAccess({ nodeId, subscriptionId });
    if (r.outcome === 'moved') {
      progress.moved++;
      // Deduped per access and drained node: a resumed drain never tells anyone twice.
      told = telegram()
        .notify({
          kind: 'node_moved',
          telegramId: r.telegramId,
          language: r.language,
          subscriptionId,
          fromNodeId: nodeId,
        })
        .catch(() => undefined); // a user who blocked the bot still moves
    } else if (r.outcome === 'failed') progress.failed++;
  } catch (err) {
    await book.recordMoveFailed({ nodeId, subscriptionId, error: String((err as Error).message ?? err) });
    progress.failed++;
  }
  progress.remaining = Math.max(0, progress.remaining - 1);
  return { told };
}
