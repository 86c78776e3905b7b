import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORY_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');

/**
 * With RECORD_HISTORIES=1, saves a finished workflow's history as a replay fixture
 * (test/workflows/replay.test.ts replays every fixture against the current code).
 */
export async function recordHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORY_DIR, { recursive: true });
  // The same JSON `temporal workflow show --output json` prints, so operators' exports can be replayed too.
  writeFileSync(path.join(HISTORY_DIR, `${name}.json`), historyToJSON(history));
}
