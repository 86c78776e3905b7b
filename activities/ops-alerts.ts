import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { buildPurchasesQuery } from '../api/stuck-purchases';
import { SEARCH_ATTRIBUTES } from '../infra/temporal';
import type { Logger } from 'pino';
import {
  TelegramBlockedError,
  TelegramRateLimitedError,
  TelegramRejectedError,
} from '../infra/telegram/errors';
import type { OpsAlerter, OpsAlertMessage } from '../infra/ops-alerts';
import type { TelegramSender } from '../infra/telegram/sender';
import { Failure } from '../workflows/failures';

/** The admin chat's messages. Runs on the `telegram` queue, inside the same global budget as every send. */
export function createOpsAlertActivities({ sender, logger }: { sender: TelegramSender; logger: Logger }) {
  return {
    async sendOpsAlert({ chatId, text }: OpsAlertMessage): Promise<void> {
      try {
        await sender.sendMessage(Number(chatId), text);
      } catch (err) {
        if (err instanceof TelegramRateLimitedError) {
          throw ApplicationFailure.create({
            message: err.message,
            type: Failure.TelegramRateLimited,
            nextRetryDelay: `${err.retryAfterSec}s`,
          });
        }
        if (err instanceof TelegramRejectedError || err instanceof TelegramBlockedError) {
          // A wrong ADMIN_ALERT_CHAT_ID or a bot not in the group: retrying cannot fix it.
          logger.error({ err, chatId }, 'the admin chat refused an ops alert: check ADMIN_ALERT_CHAT_ID');
          throw ApplicationFailure.nonRetryable(err.message, Failure.TelegramRejected);
        }
        throw err;
      }
    },
  };
}

/**
 * Stuck purchases (runs on the purchases queue, from opsWatchWorkflow): running purchases that entered their
 * stage longer than `olderThanMs` ago, from Temporal visibility, limited to this deployment's queue. At least
 * `atLeast` of them raise one `stuck_purchases` alert (throttled like every alert).
 */
export function createOpsWatchActivities({ temporal, alerter }: { temporal: Client; alerter?: OpsAlerter }) {
  return {
    async checkStuckPurchases({ olderThanMs, atLeast }: { olderThanMs: number; atLeast: number }) {
      const queue = Context.current().info.taskQueue;
      const query = `${buildPurchasesQuery({ olderThanMs })} AND TaskQueue="${queue.replace(/["\\]/g, '')}"`;
      const { count } = await temporal.workflow.count(query);
      if (count < atLeast) return { count, alerted: false };
      const examples: string[] = [];
      for await (const wf of temporal.workflow.list({ query })) {
        const stage = wf.typedSearchAttributes.get(SEARCH_ATTRIBUTES.PurchaseStage) ?? '?';
        examples.push(`${wf.workflowId} (${stage})`);
        if (examples.length >= 5) break;
      }
      await alerter?.raise({
        kind: 'stuck_purchases',
        detail: `${count} purchase(s) in one stage for over ${Math.round(olderThanMs / 60_000)} min: ${examples.join(', ')}`,
      });
      return { count, alerted: true };
    },
  };
}
