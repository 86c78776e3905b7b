import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { insertUser, uniqueTelegramId } from '../api/fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from '../api/harness';
import { until } from '../support/journey';
import type { PurchaseSystem } from '../support/system';
import { paymentNoticeSignal, subscriptionWorkflowId } from '../../workflows/purchase-messages';

/** The details a running workflow reports (what the Temporal UI shows under "Current details"). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return String(meta.currentDetails ?? '');
}

/**
 * Temporal user metadata on the real API, worker and Temporal server: purchases, lifetimes and broadcasts
 * start with a human summary, and their current details say what they wait for.
 */
describe('console: Temporal summaries and current details', function () {
  this.timeout(120_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem();
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys);
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  it('a purchase reads "199.00 RUB · month-1 · @ann (id)", waits for payment, then its lifetime says when it ends', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg, 'ann');
    const res = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const purchase = sys.client.workflow.getHandle(res.body.workflow_id);
    const described = await purchase.describe();
    assert.equal(await described.staticSummary(), `199.00 RUB · month-1 · @ann (${tg})`);
    assert.match(await currentDetails(purchase), /^AWAITING_PAYMENT: waiting for the user to pay/);

    const [p] = await sys.orm.em
      .getConnection()
      .execute(`select provider_payment_id, amount, currency from payments where id = ?`, [
        res.body.payment_id,
      ]);
    sys.yookassa.pay(p.provider_payment_id);
    await purchase.signal(paymentNoticeSignal, {
      providerPaymentId: p.provider_payment_id,
      status: 'succeeded',
      amount: p.amount,
      currency: p.currency,
    });
    await purchase.result();
    assert.equal(await currentDetails(purchase).catch(() => 'closed'), 'COMPLETED: done: access granted');

    const [s] = await sys.orm.em
      .getConnection()
      .execute(
        `select s.id, s.expires_at from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ?`,
        [tg],
      );
    const lifetime = sys.client.workflow.getHandle(subscriptionWorkflowId(s.id));
    assert.equal(
      await (await lifetime.describe()).staticSummary(),
      `Access ${String(s.id).slice(0, 8)} · @ann (${tg}) · node ${sys.nodeId}`,
    );
    const ends = new Date(s.expires_at).toISOString();
    const details = await until(async () => {
      const d = await currentDetails(lifetime);
      return /^ACTIVE: waiting/.test(d) && d;
    }, 'the lifetime waits');
    assert.ok(details.endsWith(`access ends ${ends}`), details);
  });

  it('a broadcast starts with its audience and author in the summary', async () => {
    await insertUser(sys.orm, uniqueTelegramId());
    const res = await api.call('POST', '/api/v1/admin/broadcasts', {
      token: ADMIN_TOKEN,
      body: { text: 'hello', audience: { segment: 'all' } },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const handle = sys.client.workflow.getHandle(res.body.workflow_id);
    assert.match(String(await (await handle.describe()).staticSummary()), /^Broadcast to \d+ \(all\) by /);
  });
});
