import assert from 'node:assert/strict';
import type { ApiHarness } from '../api/harness';
import type { PurchaseSystem } from '../support/system';
import { signalProviderState } from '../support/webhook';

// Shared steps of the referral and gift suites: what the bot does through the API, and the user paying.

export async function register(api: ApiHarness, telegramId: number, startPayload?: string) {
  const res = await api.call('POST', '/api/v1/users/register', {
    body: {
      telegram_id: telegramId,
      first_name: `u${telegramId}`,
      language_code: 'en',
      start_payload: startPayload,
    },
  });
  assert.ok([200, 201].includes(res.status), res.text);
  return res;
}

/** payments/create through the API, the user pays at the YooKassa emulator, the webhook's signal arrives. */
export async function buyAndPay(
  sys: PurchaseSystem,
  api: ApiHarness,
  telegramId: number,
  tariffSlug: string,
  purpose: 'subscription' | 'gift' = 'subscription',
) {
  const created = await api.call('POST', '/api/v1/payments/create', {
    body: { telegram_id: telegramId, tariff_slug: tariffSlug, purpose },
  });
  assert.equal(created.status, 201, created.text);
  const paymentId: string = created.body.payment_id;
  const [row] = await sys.orm.em
    .getConnection()
    .execute(`select provider_payment_id, purpose from payments where id = ?`, [paymentId]);
  assert.equal(row.purpose, purpose);
  sys.yookassa.pay(row.provider_payment_id);
  await signalProviderState(sys, paymentId, row.provider_payment_id);
  const result = await sys.client.workflow.getHandle(created.body.workflow_id).result();
  return { paymentId, result, providerPaymentId: row.provider_payment_id as string };
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 30_000,
) {
  const giveUp = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > giveUp) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function activeAccess(sys: PurchaseSystem, telegramId: number) {
  const rows = await sys.orm.em
    .getConnection()
    .execute(
      `select s.* from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ? and s.status = 'active'`,
      [telegramId],
    );
  return rows[0];
}
