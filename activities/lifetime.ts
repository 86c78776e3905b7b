import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Failure } from '../workflows/failures';
import { subscriptionWorkflowId } from '../workflows/purchase-messages';
import { lifetimeSummary } from '../workflows/summaries';
import {
  expiryChangedSignal,
  SUBSCRIPTION_WORKFLOW_TYPE,
  type SubscriptionInput,
} from '../workflows/subscription-messages';

export interface LifetimeDeps {
  orm: MikroORM;
  temporal: Client;
  remindBeforeMs: number[];
  /** AUTO_RENEW_BEFORE and AUTO_RENEW_RETRIES, handed to each lifetime (workflows/subscription/auto-renew.ts). */
  autoRenew?: { beforeMs: number; retries: number };
}

/** Temporal itself: hands an access's end date to its lifetime workflow (started if not running). */
export function createLifetimeActivities({ orm, temporal, remindBeforeMs, autoRenew }: LifetimeDeps) {
  return {
    /** `endMovedBack`: a cancel or a refund ended the access earlier; the lifetime takes the earlier end. */
    async scheduleLifetime({
      subscriptionId,
      endMovedBack,
    }: {
      subscriptionId: string;
      endMovedBack?: boolean;
    }): Promise<void> {
      const [s] = await orm.em.getConnection().execute(
        `select s.id, s.node_id, s.expires_at, u.telegram_id, u.language, u.username
           from subscriptions s join users u on u.id = s.user_id where s.id = ?`,
        [subscriptionId],
      );
      // Retryable, as before: the grant that names it commits first, so a retry finds it.
      if (!s)
        throw ApplicationFailure.retryable(
          `subscription ${subscriptionId} not found`,
          Failure.SubscriptionNotFound,
        );
      const expiresAt = new Date(s.expires_at).toISOString();
      const input: SubscriptionInput = {
        subscriptionId,
        telegramId: String(s.telegram_id),
        language: s.language,
        nodeId: s.node_id,
        expiresAt,
        remindBeforeMs,
        ...(autoRenew ? { autoRenewBeforeMs: autoRenew.beforeMs, autoRenewRetries: autoRenew.retries } : {}),
      };
      // Atomic: signals the running lifetime, or starts one. A late duplicate finds the access gone and exits.
      await temporal.workflow.signalWithStart(SUBSCRIPTION_WORKFLOW_TYPE, {
        workflowId: subscriptionWorkflowId(subscriptionId),
        taskQueue: Context.current().info.taskQueue, // the queue this purchase runs on
        args: [input],
        signal: expiryChangedSignal,
        staticSummary: lifetimeSummary({ ...input, username: s.username }),
        signalArgs: [endMovedBack ? { expiresAt, movedBack: true } : { expiresAt }],
      });
    },
  };
}
