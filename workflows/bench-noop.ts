/**
 * Benchmark baselines (scripts/bench), registered only by the bench's own worker, never in production:
 * the ceiling the engine itself allows, measured beside the real figures in the same run.
 *
 * benchNoopPurchaseWorkflow has the happy path's shape of purchaseWorkflow (paid by a webhook signal):
 * the same Update-with-Start payment link, the same 9 activities in the same order (8 on the purchases
 * queue, the key message on the rate-limited telegram queue), the same growing poll timers
 * (workflows/payment-polling.ts), signal and 6 search-attribute upserts; only its activities do nothing.
 */
import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Notification } from '../activities/telegram';
import {
  type PaymentLink,
  type PurchaseInput,
  type PurchaseStage,
  paymentLinkUpdate,
  paymentNoticeSignal,
} from './purchase-messages';
import { pollGap } from './payment-polling';
import { stageAttributes } from './stage';
import { telegram } from './activity-options';

/** The purchase's activities by name, each a no-op (scripts/bench/noop-shape.ts implements them). */
export interface NoopPurchaseActivities {
  createPayment(input: PurchaseInput): Promise<PaymentLink>;
  getPaymentState(input: { paymentId: string }): Promise<void>;
  recordPaymentSucceeded(input: { paymentId: string }): Promise<void>;
  extendActiveSubscription(input: { paymentId: string }): Promise<null>;
  selectNode(input: { paymentId: string }): Promise<string>;
  addClient(input: { paymentId: string }): Promise<void>;
  activateSubscription(input: { paymentId: string }): Promise<void>;
  scheduleLifetime(input: { paymentId: string }): Promise<void>;
  observeKeyDelivered(input: { paymentId: string }): Promise<void>;
}

const acts = proxyActivities<NoopPurchaseActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1m' },
});

export const BENCH_NOOP_PURCHASE_WORKFLOW_TYPE = 'benchNoopPurchaseWorkflow';
export const benchNoopWorkflowId = (paymentId: string) => `bench-noop-${paymentId}`;
export const BENCH_NOTIFY_WORKFLOW_TYPE = 'benchNotifyWorkflow';
export const benchNotifyWorkflowId = (queue: string, i: number) => `bench-notify-${queue}-${i}`;

export async function benchNoopPurchaseWorkflow(input: PurchaseInput): Promise<{ outcome: 'granted' }> {
  let link: PaymentLink | undefined;
  let paid = false;
  const { paymentId } = input;
  const enterStage = (stage: PurchaseStage, nodeId: string | null = null) =>
    upsertSearchAttributes(stageAttributes(stage, { telegramId: input.telegramId, paymentId, nodeId }));
  setHandler(paymentNoticeSignal, () => {
    paid = true;
  });
  setHandler(paymentLinkUpdate, async () => {
    await condition(() => link !== undefined);
    return link!;
  });

  enterStage('CREATING_PAYMENT');
  link = await acts.createPayment(input);
  enterStage('AWAITING_PAYMENT');
  for (let i = 0; !(await condition(() => paid, pollGap(i))); i++) await acts.getPaymentState({ paymentId });
  enterStage('PROVISIONING');
  await acts.recordPaymentSucceeded({ paymentId });
  await acts.extendActiveSubscription({ paymentId });
  const nodeId = await acts.selectNode({ paymentId });
  enterStage('PROVISIONING', nodeId);
  await acts.addClient({ paymentId });
  await acts.activateSubscription({ paymentId });
  await acts.scheduleLifetime({ paymentId });
  enterStage('NOTIFYING', nodeId);
  const key: Notification = {
    kind: 'activated',
    telegramId: input.telegramId,
    language: input.language,
    paymentId,
  };
  await telegram().notify(key);
  await acts.observeKeyDelivered({ paymentId });
  enterStage('COMPLETED', nodeId);
  return { outcome: 'granted' };
}

/**
 * One notification through the real telegram activity and queue limiter: the budget benchmarks start
 * many of these at once to see the rate the limiter lets through and what Telegram answers.
 */
export async function benchNotifyWorkflow(n: Notification): Promise<string> {
  return telegram().notify(n);
}
