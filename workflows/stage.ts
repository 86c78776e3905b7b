import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { SEARCH_ATTRIBUTES as SA } from './search-attributes';

/** Search attributes upserted at every stage change, so ops can query "stuck in X for longer than Y". */
export function stageAttributes(
  stage: string,
  ids: { telegramId: string; paymentId?: string | null; nodeId?: string | null },
): SearchAttributeUpdatePair[] {
  const pairs: SearchAttributeUpdatePair[] = [
    { key: SA.PurchaseStage, value: stage },
    { key: SA.StageEnteredAt, value: new Date() },
    { key: SA.TelegramId, value: ids.telegramId },
  ];
  if (ids.paymentId) pairs.push({ key: SA.PaymentId, value: ids.paymentId });
  if (ids.nodeId) pairs.push({ key: SA.NodeId, value: ids.nodeId });
  return pairs;
}
