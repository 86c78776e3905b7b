import { defineQuery } from '@temporalio/workflow';

// Shared by the free-access workflow, the API and the tests: the ids are part of the operator contract.

/** Why a free access or extension is given (free_grants.reason). */
export type FreeGrantReason = 'trial' | 'promo_days' | 'referral' | 'gift' | 'admin';

export interface FreeAccessInput {
  /** free_grants.id, e.g. `trial:<telegram id>` or `promo:<redemption id>`: applied at most once. */
  grantId: string;
  reason: FreeGrantReason;
  userId: string;
  telegramId: string;
  language: string;
  durationSeconds: number;
  /** Extend a running access (free-days codes); a trial never extends, it only starts a first access. */
  extendExisting: boolean;
  /** Slug of the tariff a new free access is recorded under (its location picks the node). */
  tariffSlug: string;
  nodeWaitLimitMs: number;
  /** The id a new access gets (a trial's was announced by the API); default a fresh one. */
  subscriptionId?: string;
}

export type FreeAccessStage = 'PROVISIONING' | 'NOTIFYING' | 'COMPLETED' | 'SUPERSEDED' | 'FAILED';

export interface FreeAccessStatus {
  stage: FreeAccessStage;
  subscriptionId: string | null;
  expiresAt: string | null;
  nodeId: string | null;
  lastError: string | null;
}

export interface FreeAccessResult {
  outcome: 'activated' | 'extended' | 'superseded' | 'failed';
  subscriptionId?: string;
  expiresAt?: string;
}

export const freeAccessStatusQuery = defineQuery<FreeAccessStatus>('status');

/** Contract: the trial grant is findable in Temporal as `trial-<telegram id>`. */
export const trialWorkflowId = (telegramId: string) => `trial-${telegramId}`;
/** Trials, free-days codes and other free grants all run as this workflow type. */
export const FREE_ACCESS_WORKFLOW_TYPE = 'freeAccessWorkflow';
export const trialGrantId = (telegramId: string) => `trial:${telegramId}`;
/** A free-days promo redemption's grant. */
export const promoGrantWorkflowId = (redemptionId: string) => `promo-days-${redemptionId}`;
export const promoGrantId = (redemptionId: string) => `promo:${redemptionId}`;
