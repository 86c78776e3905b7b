import type { Client } from '@temporalio/client';
import {
  type PurchaseStage,
  type PurchaseStatus,
  purchaseStatusQuery,
  purchaseWorkflowId,
} from '../../workflows/purchase-messages';
import { waitFor } from './wait-for-value';

const ENDS: PurchaseStage[] = ['COMPLETED', 'REFUNDED', 'FAILED', 'EXPIRED', 'CANCELED'];

/** The stage a purchase ends in, read from its status query while it runs (as the Web UI and admin API read it). */
export function purchaseEnd(client: Client, paymentId: string): Promise<PurchaseStage> {
  const handle = client.workflow.getHandle(purchaseWorkflowId(paymentId));
  return waitFor(async () => {
    const { stage } = (await handle.query(purchaseStatusQuery)) as PurchaseStatus;
    return ENDS.includes(stage) ? stage : undefined;
  }, `the end of purchase ${paymentId}`);
}
