import type { Config } from '../config';
import { createYooKassaClient, type YooKassaClient } from './client';
import { receiptSettingsFrom } from './receipt';

/** The one YooKassa client of a process (worker or API), or null when no shop is configured. */
export function yooKassaClientFromConfig(config: Config): YooKassaClient | null {
  if (!config.YOOKASSA_SHOP_ID || !config.YOOKASSA_SECRET_KEY) return null;
  return createYooKassaClient({
    apiUrl: config.YOOKASSA_API_URL,
    shopId: config.YOOKASSA_SHOP_ID,
    secretKey: config.YOOKASSA_SECRET_KEY,
    returnUrl: config.YOOKASSA_RETURN_URL ?? config.PUBLIC_BASE_URL,
    receipt: receiptSettingsFrom(config),
  });
}
