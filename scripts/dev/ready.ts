import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../infra/config';
import { connectClient } from '../../infra/temporal';
import { errorText } from './log';

const TASK_QUEUE_TYPE_WORKFLOW = 1;

async function until(what: string, deadline: number, probe: () => Promise<boolean>): Promise<void> {
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = errorText(err);
    }
    await sleep(250);
  }
  throw new Error(`${what} not ready in time (${last})`);
}

/** Ready = the API's /health is 200 (PostgreSQL and Temporal ok) and a worker polls the purchases queue. */
export async function waitUntilReady(apiBase: string, config: Config, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await until('the API', deadline, async () => (await fetch(`${apiBase}/health`)).status === 200);
  const client = await connectClient(config);
  try {
    await until('the worker', deadline, async () => {
      const queue = await client.workflowService.describeTaskQueue({
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: { name: config.PURCHASES_TASK_QUEUE },
        taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
      });
      return (queue.pollers ?? []).length > 0;
    });
  } finally {
    await client.connection.close();
  }
}

export interface Summary {
  seconds: number;
  temporalUi: string;
  apiBase: string;
  yookassa: string;
  secretsFile: string;
  tokensFromEnv: boolean;
  node: string;
  bot: string;
}

export function printSummary(s: Summary): void {
  const token = s.tokensFromEnv ? '$API_TOKEN' : `$(node -p "require('${s.secretsFile}').API_TOKEN")`;
  const lines = [
    `[dev] ready in ${s.seconds.toFixed(1)} s`,
    `  Temporal UI:        ${s.temporalUi}`,
    `  API:                ${s.apiBase}`,
    `  YooKassa emulator:  ${s.yookassa}`,
    `  Tokens:             API_TOKEN / ADMIN_TOKEN ${s.tokensFromEnv ? 'from the environment' : `in ${s.secretsFile}`}`,
    `  VPN node:           ${s.node}`,
    `  Bot:                ${s.bot}`,
    `  Try:                curl -H "Authorization: Bearer ${token}" ${s.apiBase}/api/v1/tariffs`,
    '  Ctrl-C stops everything; the next run reuses the same data.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
