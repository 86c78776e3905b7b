import { defineQuery, defineSignal } from '@temporalio/workflow';

// The lifetime workflow's contract, shared by the workflow, the activity that starts it and the tests.

/** The workflow type name the `purchases` queue registers (workflows/index.ts exports subscriptionWorkflow). */
export const SUBSCRIPTION_WORKFLOW_TYPE = 'subscriptionWorkflow';

export interface SubscriptionInput {
  subscriptionId: string;
  telegramId: string;
  language: string;
  nodeId: string;
  expiresAt: string;
  remindBeforeMs: number[];
  /** Reminders already sent, as "<expiresAt ms>:<offset ms>", carried across continue-as-new. */
  reminded?: string[];
  /** AUTO_RENEW_BEFORE: how long before the end the first automatic renewal is tried (absent: 24 h). */
  autoRenewBeforeMs?: number;
  /** AUTO_RENEW_RETRIES: how many attempts per period, spread with backoff up to the end (absent: 3). */
  autoRenewRetries?: number;
}

export interface SubscriptionState {
  stage: 'ACTIVE' | 'REVOKING' | 'EXPIRED' | 'CLOSED';
  expiresAt: string;
  reminded: string[];
}

/** `movedBack`: a cancel or a refund ended the access earlier (otherwise an end never moves back). */
export const expiryChangedSignal =
  defineSignal<[{ expiresAt: string; movedBack?: boolean }]>('expiryChanged');
export const subscriptionStatusQuery = defineQuery<SubscriptionState>('status');
