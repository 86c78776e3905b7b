/**
 * A local YooKassa (API v3) for tests and `npm run dev`: same URLs, auth, Idempotence-Key rules,
 * statuses, errors and notifications as the real service, plus a checkout page and switchable faults.
 * The client under test only gets a different base URL.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '../logger';
import { adminRouter } from './emulator-admin';
import { createApiRouter } from './emulator-api';
import { checkoutRouter } from './emulator-checkout';
import { DEFAULT_FAULTS, type EmulatorFaults } from './emulator-faults';
import { createLedger } from './emulator-ledger';
import {
  createWebhookSender,
  DEFAULT_WEBHOOK_RETRY,
  type WebhookDelivery,
  type WebhookRetryPolicy,
} from './emulator-webhooks';
import type { Payment, PaymentMethod, Refund } from './types';

export type { EmulatorFaults } from './emulator-faults';
export type { WebhookDelivery, WebhookRetryPolicy } from './emulator-webhooks';

export interface YooKassaEmulatorOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /** Default 127.0.0.1 (the admin surface is unauthenticated). */
  host?: string;
  shopId: string;
  secretKey: string;
  webhookUrl?: string;
  /** Origin used in confirmation_url when the emulator is reached through another address. */
  publicBaseUrl?: string;
  pendingTtlMs?: number;
  captureTtlMs?: number;
  webhookRetry?: Partial<WebhookRetryPolicy>;
  faults?: Partial<EmulatorFaults>;
  /** The shop has 54-FZ fiscalisation on: a create or refund without `receipt` gets 400 (parameter receipt). */
  fiscalisation?: boolean;
}

export interface YooKassaEmulator {
  /** API base, e.g. http://127.0.0.1:PORT/v3 — what YOOKASSA_API_URL points to. */
  url: string;
  /** http://127.0.0.1:PORT — the checkout pages and /__emulator/ live here. */
  origin: string;
  /** Mutable: set a counter and the next requests fail accordingly. */
  faults: EmulatorFaults;
  payments(): Payment[];
  refunds(): Refund[];
  /** Methods buyers agreed to save (save_payment_method), chargeable with payment_method_id. */
  savedMethods(): PaymentMethod[];
  payment(id: string): Payment;
  pay(id: string): Payment;
  decline(id: string, reason?: string): Payment;
  expire(id: string): Payment;
  setWebhookUrl(url: string | undefined): void;
  /** Switches the shop's 54-FZ fiscalisation (as in the YooKassa shop settings). */
  setFiscalisation(on: boolean): void;
  deliveries(): WebhookDelivery[];
  close(): Promise<void>;
}

const HOUR_MS = 60 * 60 * 1000;
const log = createLogger('yookassa-emulator');

export async function startYooKassaEmulator(options: YooKassaEmulatorOptions): Promise<YooKassaEmulator> {
  const faults: EmulatorFaults = { ...DEFAULT_FAULTS, ...options.faults };
  let webhookUrl = options.webhookUrl;
  let fiscalisation = options.fiscalisation ?? false;
  let origin = '';
  const publicOrigin = () => (options.publicBaseUrl ?? origin).replace(/\/+$/, '');
  const webhooks = createWebhookSender({
    getUrl: () => webhookUrl,
    shouldDrop: () => faults.dropWebhooks,
    policy: { ...DEFAULT_WEBHOOK_RETRY, ...options.webhookRetry },
    log,
  });
  const pendingTtlMs = options.pendingTtlMs ?? HOUR_MS;
  const ledger = createLedger({
    shopId: options.shopId,
    checkoutUrl: (id) => `${publicOrigin()}/checkout/${id}`,
    onEvent: (event, object) => webhooks.notify(event, object),
    pendingTtlMs,
    captureTtlMs: options.captureTtlMs ?? 7 * 24 * HOUR_MS,
    fiscalisation: () => fiscalisation,
    declineSavedCharge: () => faults.declineSavedChargeNext > 0 && faults.declineSavedChargeNext-- > 0,
  });
  const api = createApiRouter({ shopId: options.shopId, secretKey: options.secretKey, ledger, faults, log });

  const app = express();
  app.disable('x-powered-by');
  app.use('/v3', api.router);
  app.use(
    '/__emulator',
    adminRouter({
      ledger,
      faults,
      getWebhookUrl: () => webhookUrl,
      setWebhookUrl,
      deliveries: webhooks.deliveries,
      setFiscalisation: (on) => {
        fiscalisation = on;
      },
    }),
  );
  app.use(checkoutRouter(ledger));

  function setWebhookUrl(url: string | undefined): void {
    webhookUrl = url;
  }

  const server = app.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${address.port}`;
  const sweeper = setInterval(() => ledger.expireDue(), Math.max(10, Math.min(1000, pendingTtlMs / 4)));
  sweeper.unref();
  log.info({ url: `${origin}/v3`, webhookUrl }, 'YooKassa emulator listening');

  return {
    url: `${origin}/v3`,
    origin,
    faults,
    payments: ledger.listPayments,
    refunds: ledger.listRefunds,
    savedMethods: ledger.listSavedMethods,
    payment: ledger.getPayment,
    pay: ledger.pay,
    decline: ledger.decline,
    expire: ledger.expire,
    setWebhookUrl,
    setFiscalisation(on) {
      fiscalisation = on;
    },
    deliveries: webhooks.deliveries,
    async close() {
      clearInterval(sweeper);
      webhooks.close();
      api.releaseHung();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
