/** "purchases" → "telegram"; "purchases-<suffix>" → "telegram-<suffix>", so isolated deployments (and tests) pair up. */
export function telegramQueueFor(purchasesQueue: string): string {
  return purchasesQueue.replace(/^purchases/, 'telegram');
}
