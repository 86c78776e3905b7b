import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBroadcastActivities } from '../activities/broadcast';
import {
  BROADCAST_PRIORITY_KEY,
  broadcastQueueFor,
  type BroadcastCounts,
  type BroadcastInput,
  type BroadcastProgress,
  type BroadcastState,
  broadcastProgressQuery,
  cancelBroadcastSignal,
  type DeliveryOutcome,
  pauseBroadcastSignal,
  resumeBroadcastSignal,
} from './broadcast-messages';
import { broadcastDetails } from './summaries';

type BroadcastActivities = ReturnType<typeof createBroadcastActivities>;

const BROADCAST_WAITS: Record<BroadcastState, string> = {
  running: 'sending on the broadcasts queue, within its share of the Telegram budget',
  paused: 'waiting for resume (or cancel)',
  canceled: 'done: canceled, nothing more is sent',
  completed: 'done: every recipient settled',
};

/** Recipients read per page; each page is one run (continue-as-new), so history and memory stay flat. */
export const BROADCAST_PAGE = 200;
/** Sends in flight at once: enough to keep the queue's budget busy, few enough to pause quickly. */
const IN_FLIGHT = 30;
/**
 * A row `sending` this long has no live attempt (a send gives up after 15 s, its HTTP call after 10 s): its
 * worker died and no retry will come (a pause cancelled it), so the next page closes it.
 */
const STALE_SENDING_MS = 60_000;
/** The wait before looking again when only sends of an earlier run are left. */
const IN_FLIGHT_RECHECK_MS = 20_000;

const store = proxyActivities<BroadcastActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * One broadcast: pages through its pending broadcast_deliveries rows and sends each on the telegram queue
 * at low priority (keys first). The row is the dedupe: a recipient already sent is never sent again,
 * whatever restarts happen. Pause, resume and cancel are signals; progress is a query.
 */
export async function broadcastWorkflow(input: BroadcastInput): Promise<BroadcastProgress> {
  const counts: BroadcastCounts = { ...(input.counts ?? { sent: 0, failed: 0, blocked: 0 }) };
  let state: BroadcastState = input.paused ? 'paused' : 'running';
  const progress = (): BroadcastProgress => ({ state, total: input.total, ...counts });
  // What the Temporal UI's "current details" say it waits for (not a command: replay-safe).
  const describe = () =>
    setCurrentDetails(
      (input.summary ? `${input.summary}\n` : '') +
        broadcastDetails(state, counts, input.total, BROADCAST_WAITS[state]),
    );
  // Pause and cancel also cancel the page's sends not yet started (their rows stay pending).
  let page: CancellationScope | undefined;
  setHandler(pauseBroadcastSignal, () => {
    if (state === 'running') state = 'paused';
    page?.cancel();
    describe();
  });
  setHandler(resumeBroadcastSignal, () => {
    if (state === 'paused') state = 'running';
    describe();
  });
  setHandler(cancelBroadcastSignal, () => {
    if (state === 'running' || state === 'paused') state = 'canceled';
    page?.cancel();
    describe();
  });
  setHandler(broadcastProgressQuery, progress);

  const send = proxyActivities<BroadcastActivities>({
    taskQueue: broadcastQueueFor(workflowInfo().taskQueue),
    // The sender's HTTP timeout (10 s) and two row updates: a send lost with a killed worker is retried
    // (and settled from its row) after this, and the page waits for it.
    startToCloseTimeout: '15s',
    // The activity gives up on a recipient itself (counted failed) after its own attempts.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
    priority: { priorityKey: BROADCAST_PRIORITY_KEY },
  });

  describe();
  await condition(() => state !== 'paused');
  if (state === 'running') {
    let recipients: string[];
    // Pages and counts from the rows: sends settled after a pause cancelled them are counted, and rows
    // left `sending` by a killed worker are closed, so a completed broadcast has no row still open.
    if (patched('broadcast-page-from-rows')) {
      const page = await store.nextBroadcastPage({
        broadcastId: input.broadcastId,
        limit: BROADCAST_PAGE,
        staleAfterMs: STALE_SENDING_MS,
      });
      recipients = page.recipients;
      Object.assign(counts, page.counts);
      if (recipients.length === 0 && page.inFlight > 0) {
        // Sends of an earlier run still settling (or dead): look again once they are done or stale.
        describe();
        await sleep(IN_FLIGHT_RECHECK_MS);
        await condition(allHandlersFinished);
        const then = state as BroadcastState; // signals change it during the wait
        if (then === 'canceled') return progress();
        return continueAsNew<typeof broadcastWorkflow>({ ...input, counts, paused: then === 'paused' });
      }
    } else {
      recipients = await store.pendingRecipients({ broadcastId: input.broadcastId, limit: BROADCAST_PAGE });
    }
    if (recipients.length === 0) state = 'completed';
    let next = 0;
    const lane = async () => {
      while (next < recipients.length && state === 'running') {
        const telegramId = recipients[next++];
        const outcome: DeliveryOutcome | 'pending' = await send
          .sendBroadcastMessage({ broadcastId: input.broadcastId, telegramId })
          .catch(() => 'pending' as const); // still pending: a later page tries again
        if (outcome !== 'pending') counts[outcome]++;
        describe();
      }
    };
    page = new CancellationScope();
    await page.run(() => Promise.all(Array.from({ length: IN_FLIGHT }, lane)));
    page = undefined;
  }
  describe();
  const now = state as BroadcastState; // signals change it while the page runs
  if (now === 'canceled' || now === 'completed') {
    await condition(allHandlersFinished);
    return progress();
  }
  // Next page (or the wait for resume) in a fresh run.
  await condition(allHandlersFinished);
  return continueAsNew<typeof broadcastWorkflow>({ ...input, counts, paused: state === 'paused' });
}
