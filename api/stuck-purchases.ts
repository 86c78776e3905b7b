import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import { SEARCH_ATTRIBUTES } from '../infra/temporal';
import { PURCHASE_WORKFLOW_TYPE, type PurchaseStage } from '../workflows/purchase-messages';

export interface PurchaseFilter {
  stage?: PurchaseStage;
  /** Only purchases that entered their stage at least this long ago. */
  olderThanMs?: number;
  telegramId?: string;
  paymentId?: string;
  /** Include finished purchases (default: running ones only). */
  includeClosed?: boolean;
  /** "Now" for olderThanMs; tests pin it. */
  now?: Date;
}

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/**
 * The Temporal visibility query for purchases, the same string an operator pastes into the Temporal UI or
 * `temporal workflow list --query '...'`, e.g.
 * WorkflowType="purchaseWorkflow" AND ExecutionStatus="Running" AND PurchaseStage="AWAITING_PAYMENT" AND StageEnteredAt < "2026-11-22T10:00:00.000Z"
 */
export function buildPurchasesQuery(filter: PurchaseFilter = {}): string {
  const parts = [`WorkflowType=${quote(PURCHASE_WORKFLOW_TYPE)}`];
  if (!filter.includeClosed) parts.push('ExecutionStatus="Running"');
  if (filter.stage) parts.push(`PurchaseStage=${quote(filter.stage)}`);
  if (filter.olderThanMs !== undefined) {
    const before = new Date((filter.now ?? new Date()).getTime() - filter.olderThanMs);
    parts.push(`StageEnteredAt < ${quote(before.toISOString())}`);
  }
  if (filter.telegramId) parts.push(`TelegramId=${quote(filter.telegramId)}`);
  if (filter.paymentId) parts.push(`PaymentId=${quote(filter.paymentId)}`);
  return parts.join(' AND ');
}

export const purchaseItem = z.object({
  workflow_id: z.string(),
  run_id: z.string(),
  status: z.string().describe('Temporal execution status, e.g. RUNNING'),
  telegram_id: z.string().nullable(),
  payment_id: z.string().nullable(),
  stage: z.string().nullable(),
  stage_entered_at: z.string().nullable(),
  seconds_in_stage: z.number().int().nullable(),
  started_at: z.string(),
  ui_url: z.string(),
});
export type PurchaseItem = z.infer<typeof purchaseItem>;

export interface ListOptions {
  namespace: string;
  temporalUiUrl: string;
  limit: number;
}

/** Reads purchases from Temporal visibility; the oldest in their stage first. */
export async function listPurchases(
  client: Client,
  filter: PurchaseFilter,
  opts: ListOptions,
): Promise<PurchaseItem[]> {
  const now = filter.now ?? new Date();
  const items: PurchaseItem[] = [];
  for await (const wf of client.workflow.list({ query: buildPurchasesQuery({ ...filter, now }) })) {
    items.push(toItem(wf, now, opts));
    if (items.length >= opts.limit) break;
  }
  const at = (i: PurchaseItem) =>
    i.stage_entered_at ? Date.parse(i.stage_entered_at) : Number.POSITIVE_INFINITY;
  return items.sort((a, b) => at(a) - at(b));
}

function toItem(wf: WorkflowExecutionInfo, now: Date, opts: ListOptions): PurchaseItem {
  const sa = wf.typedSearchAttributes;
  const entered = sa.get(SEARCH_ATTRIBUTES.StageEnteredAt) ?? null;
  const ui = opts.temporalUiUrl.replace(/\/+$/, '');
  return {
    workflow_id: wf.workflowId,
    run_id: wf.runId,
    status: wf.status.name,
    telegram_id: sa.get(SEARCH_ATTRIBUTES.TelegramId) ?? null,
    payment_id: sa.get(SEARCH_ATTRIBUTES.PaymentId) ?? null,
    stage: sa.get(SEARCH_ATTRIBUTES.PurchaseStage) ?? null,
    stage_entered_at: entered ? entered.toISOString() : null,
    seconds_in_stage: entered ? Math.max(0, Math.floor((now.getTime() - entered.getTime()) / 1000)) : null,
    started_at: wf.startTime.toISOString(),
    ui_url: `${ui}/namespaces/${encodeURIComponent(opts.namespace)}/workflows/${encodeURIComponent(wf.workflowId)}`,
  };
}
