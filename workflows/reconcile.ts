import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { nodeReconcile as nodes } from './activity-options';
import { type ReconcileInput, type ReconcileOutcome, reconcileNowUpdate } from './reconcile-messages';

const ROUNDS_BEFORE_CONTINUE = 200;

/** Desired-state reconcile of one node (`reconcile-<node id>`): periodic rounds, and one on request. */
export async function reconcileNodeWorkflow(input: ReconcileInput): Promise<void> {
  let requested = 0;
  let done = 0;
  let last: ReconcileOutcome = { ok: false, error: 'no round yet' };
  let gone = false;
  let closing = false;

  setHandler(reconcileNowUpdate, async (): Promise<ReconcileOutcome> => {
    // While this run hands over to the next, answer the round that has just run.
    if (closing) return last;
    const wanted = ++requested;
    await condition(() => done >= wanted);
    return last;
  });

  const round = async () => {
    const target = requested;
    try {
      const result = await nodes.reconcileNode({ nodeId: input.nodeId, strayGraceMs: input.strayGraceMs });
      if (!result.exists) gone = true;
      last = result.exists ? { ok: true, ...result } : { ok: false, error: 'node disabled or deleted' };
    } catch (err) {
      const e = err as Error & { cause?: Error };
      last = { ok: false, error: String(e.cause?.message ?? e.message ?? err).slice(0, 200) };
    }
    done = target;
  };

  for (let i = 0; i < ROUNDS_BEFORE_CONTINUE && !gone; i++) {
    await condition(() => requested > done, input.intervalMs);
    await round();
    if (workflowInfo().continueAsNewSuggested) break;
  }
  closing = true;
  while (requested > done && !gone) await round();
  done = requested;
  await condition(allHandlersFinished);
  if (gone) return; // a disabled node is reconciled again once something starts it anew
  await continueAsNew<typeof reconcileNodeWorkflow>(input);
}
