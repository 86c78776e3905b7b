import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { createPaymentActivities } from '../../../activities/payments';
import { parseConfig } from '../../../infra/config';
import { createLogger } from '../../../infra/logger';
import { createYooKassaClient, YooKassaRejectedError } from '../../../infra/yookassa/client';
import { startYooKassaEmulator, type YooKassaEmulator } from '../../../infra/yookassa/emulator';
import { yooKassaClientFromConfig } from '../../../infra/yookassa/from-config';
import { buildReceipt, receiptSettingsFrom } from '../../../infra/yookassa/receipt';
import type { PurchaseInput } from '../../../workflows/purchase-messages';
import { insertTariff, insertUser, uniqueTelegramId } from '../../api/fixtures';
import { freshDatabase } from '../../support/services';
import { Failure } from '../../../workflows/failures';

const SHOP_ID = '100500';
const SECRET = 'test_receipts_secret_key_0123456789';
const RETURN_URL = 'http://127.0.0.1:9/return';

const env = (emulator: YooKassaEmulator, extra: Record<string, string> = {}) =>
  parseConfig({
    DATABASE_URL: 'postgres://unused/db',
    YOOKASSA_SHOP_ID: SHOP_ID,
    YOOKASSA_SECRET_KEY: SECRET,
    YOOKASSA_API_URL: emulator.url,
    YOOKASSA_RETURN_URL: RETURN_URL,
    ...extra,
  });

const RECEIPTS_ON = {
  YOOKASSA_RECEIPT: 'on',
  YOOKASSA_RECEIPT_CUSTOMER: 'email:receipts@shop.test',
  YOOKASSA_VAT_CODE: '1',
  YOOKASSA_TAX_SYSTEM_CODE: '2',
};

describe('YooKassa 54-FZ receipts (shop with fiscalisation on)', () => {
  let emulator: YooKassaEmulator;
  let orm: MikroORM;
  const logger = createLogger('receipt-test');

  before(async () => {
    emulator = await startYooKassaEmulator({ shopId: SHOP_ID, secretKey: SECRET, fiscalisation: true });
    ({ orm } = await freshDatabase());
  });
  after(() => emulator.close());

  async function purchaseInput(): Promise<PurchaseInput> {
    const telegramId = uniqueTelegramId();
    const user = await insertUser(orm, telegramId);
    const tariff = await insertTariff(orm, { price: '199.00' });
    return {
      paymentId: randomUUID(),
      userId: user.id,
      telegramId: String(telegramId),
      language: 'en',
      provider: 'yookassa',
      tariff: {
        id: tariff.id,
        name: 'Month',
        price: tariff.price,
        currency: 'RUB',
        durationSeconds: tariff.duration_seconds,
        starPrice: null,
        location: null,
      },
      paymentTimeoutMs: 60_000,
      remindBeforeMs: [60_000],
      nodeWaitLimitMs: 60_000,
    };
  }
  const activitiesWith = (config: ReturnType<typeof env>) =>
    createPaymentActivities({
      orm,
      yookassa: yooKassaClientFromConfig(config),
      telegram: null,
      returnUrl: RETURN_URL,
      logger,
    });

  it('without receipts configured, the shop gets 400 "receipt" on create: the purchase is rejected', async () => {
    const activities = activitiesWith(env(emulator));
    const err = await activities.createPayment(await purchaseInput()).catch((e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, Failure.PaymentRejected);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /400 invalid_request \(parameter receipt\)/);
  });

  it('with YOOKASSA_RECEIPT=on the card payment and its refund carry receipts and both succeed', async () => {
    const activities = activitiesWith(env(emulator, RECEIPTS_ON));
    const input = await purchaseInput();
    const link = await activities.createPayment(input);
    assert.match(link.confirmationUrl ?? '', /\/checkout\//);
    const payment = emulator.payment(link.providerPaymentId!);
    assert.equal(payment.receipt_registration, 'pending', 'YooKassa registers a receipt for the payment');

    emulator.pay(payment.id);
    await activities.refundPayment({ paymentId: input.paymentId, reason: 'test: no node' });
    const refunds = emulator.refunds().filter((r) => r.payment_id === payment.id);
    assert.equal(refunds.length, 1);
    assert.deepEqual(refunds[0]!.amount, { value: '199.00', currency: 'RUB' });
    const [row] = await orm.em
      .getConnection()
      .execute(`select status, refund_id from payments where id = ?`, [input.paymentId]);
    assert.deepEqual([row.status, row.refund_id], ['refunded', refunds[0]!.id]);
  });

  it('the emulator refuses a refund without a receipt, like YooKassa does for such a shop', async () => {
    const withReceipts = yooKassaClientFromConfig(env(emulator, RECEIPTS_ON))!;
    const payment = await withReceipts.createPayment({
      idempotenceKey: randomUUID(),
      amount: '50.00',
      currency: 'RUB',
      description: 'VPN: test',
      metadata: {},
    });
    emulator.pay(payment.id);
    const bare = createYooKassaClient({
      apiUrl: emulator.url,
      shopId: SHOP_ID,
      secretKey: SECRET,
      returnUrl: RETURN_URL,
    });
    const err = await bare
      .createRefund({ idempotenceKey: randomUUID(), paymentId: payment.id, amount: '50.00', currency: 'RUB' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof YooKassaRejectedError);
    assert.deepEqual([err.status, err.parameter], [400, 'receipt']);
    const ok = await withReceipts.createRefund({
      idempotenceKey: randomUUID(),
      paymentId: payment.id,
      amount: '20.00',
      currency: 'RUB',
    });
    assert.equal(ok.status, 'succeeded', 'a partial refund with a receipt for its own amount is accepted');
  });

  it('a shop without fiscalisation still accepts payments without a receipt', async () => {
    emulator.setFiscalisation(false);
    try {
      const link = await activitiesWith(env(emulator)).createPayment(await purchaseInput());
      assert.ok(link.providerPaymentId);
      assert.equal(emulator.payment(link.providerPaymentId).receipt_registration, undefined);
    } finally {
      emulator.setFiscalisation(true);
    }
  });
});

describe('YooKassa receipt settings', () => {
  const base = { DATABASE_URL: 'postgres://x/y' };

  it('builds the receipt YooKassa expects from the config', () => {
    const config = parseConfig({
      ...base,
      YOOKASSA_RECEIPT: 'on',
      YOOKASSA_RECEIPT_CUSTOMER: 'phone:+79001234567',
      YOOKASSA_VAT_CODE: '4',
      YOOKASSA_TAX_SYSTEM_CODE: '1',
    });
    const receipt = buildReceipt(receiptSettingsFrom(config), {
      description: 'VPN: Month',
      amount: '199.00',
      currency: 'RUB',
    });
    assert.deepEqual(receipt, {
      customer: { phone: '79001234567' },
      items: [
        {
          description: 'VPN: Month',
          quantity: '1.00',
          amount: { value: '199.00', currency: 'RUB' },
          vat_code: 4,
          payment_mode: 'full_payment',
          payment_subject: 'service',
        },
      ],
      tax_system_code: 1,
    });
  });

  it('is off by default, and then no receipt is built', () => {
    const config = parseConfig(base);
    assert.equal(config.YOOKASSA_RECEIPT, 'off');
    assert.equal(receiptSettingsFrom(config), undefined);
  });

  it('refuses to start with receipts on but no contact, a bad contact, or codes out of range', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ YOOKASSA_RECEIPT: 'on' }, /YOOKASSA_RECEIPT_CUSTOMER is required/],
      [
        { YOOKASSA_RECEIPT: 'on', YOOKASSA_RECEIPT_CUSTOMER: 'shop@x.ru' },
        /YOOKASSA_RECEIPT_CUSTOMER must be/,
      ],
      [{ YOOKASSA_RECEIPT: 'yes' }, /YOOKASSA_RECEIPT/],
      [{ YOOKASSA_VAT_CODE: '13' }, /YOOKASSA_VAT_CODE/],
      [{ YOOKASSA_TAX_SYSTEM_CODE: '7' }, /YOOKASSA_TAX_SYSTEM_CODE/],
    ];
    for (const [extra, message] of bad) {
      assert.throws(() => parseConfig({ ...base, ...extra }), message, JSON.stringify(extra));
    }
  });
});
