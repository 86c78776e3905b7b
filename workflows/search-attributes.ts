import { defineSearchAttributeKey } from '@temporalio/common';

// Operators find purchases by these (contract: Temporal section). Safe to import from workflow code.
export const SEARCH_ATTRIBUTES = {
  TelegramId: defineSearchAttributeKey('TelegramId', 'KEYWORD'),
  PaymentId: defineSearchAttributeKey('PaymentId', 'KEYWORD'),
  PurchaseStage: defineSearchAttributeKey('PurchaseStage', 'KEYWORD'),
  StageEnteredAt: defineSearchAttributeKey('StageEnteredAt', 'DATETIME'),
  NodeId: defineSearchAttributeKey('NodeId', 'KEYWORD'),
  // Gifts (workflows/gift.ts): UNCLAIMED → CLAIMED | REFUNDING → REFUNDED.
  GiftState: defineSearchAttributeKey('GiftState', 'KEYWORD'),
};
