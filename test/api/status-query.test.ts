import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  type PurchaseStage,
  type PurchaseStatus,
  purchaseStatusQuery,
  purchaseWorkflowId,
} from '../../workflows/purchase-messages';
import { recordHistory } from '../support/histories';
import type { PurchaseSystem } from '../support/system';
import { insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApiOnSystem } from './harness';

const FINAL: PurchaseStage[] = ['COMPLETED', 'REFUNDED', 'FAILED', 'EXPIRED', 'CANCELED'];
/** A balance purchase ends within a second here; past this the watch stops and the test says so. */
const WATCH_LIMIT_MS = 60_000;
const ORDER: PurchaseStage[] = [
  'CREATING_PAYMENT',
  'AWAITING_PAYMENT',
  'PROVISIONING',
  'NOTIFYING',
  'COMPLETED',
];

// The status query is what the Temporal Web UI, the admin refund and the purchase actions read while a
// purchase runs. Before workflows/purchase/changes.ts, 11 of 30 purchases paid from the balance failed it
// at their last step (a patch marker beside local activities), and so would the routes that read it.
describe('api: the purchase status query answers at every step of a running purchase', function () {
  this.timeout(240_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem();
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys, {});
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  const sql = (q: string, params: unknown[] = []) => sys.orm.em.getConnection().execute(q, params);

  /** Buys a month from the balance and queries its status back to back until the purchase ends. */
  async function buyAndWatch(): Promise<{ workflowId: string; stages: PurchaseStage[]; errors: string[] }> {
    const tg = uniqueTelegramId();
    const user = await insertUser(sys.orm, tg);
    await sql(
      `insert into balance_entries (user_id, amount, reason, reference) values (?, '250.00', 'adjustment', ?)`,
      [user.id, randomUUID()],
    );
    const buy = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1', provider: 'balance' },
    });
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    const workflowId = purchaseWorkflowId(buy.body.payment_id);
    const handle = api.temporal.workflow.getHandle(workflowId);
    const stages: PurchaseStage[] = [];
    const errors: string[] = [];
    const giveUpAt = Date.now() + WATCH_LIMIT_MS;
    while (stages.length === 0 || !FINAL.includes(stages[stages.length - 1])) {
      if (Date.now() > giveUpAt) {
        errors.push(`still ${stages[stages.length - 1]} after ${WATCH_LIMIT_MS} ms`);
        break;
      }
      try {
        const { stage } = (await handle.query(purchaseStatusQuery)) as PurchaseStatus;
        if (stages[stages.length - 1] !== stage) stages.push(stage);
      } catch (err) {
        errors.push(String(err));
        if (errors.length > 3) break;
      }
    }
    await handle.result();
    return { workflowId, stages, errors };
  }

  it('twenty purchases, each queried back to back from start to end: every answer comes, in stage order', async () => {
    for (let i = 0; i < 20; i++) {
      const { workflowId, stages, errors } = await buyAndWatch();
      assert.deepEqual(errors, [], `purchase ${i + 1}: the status query failed while it ran`);
      assert.equal(stages[stages.length - 1], 'COMPLETED');
      const positions = stages.map((s) => ORDER.indexOf(s));
      assert.ok(
        positions.every((pos, k) => pos >= 0 && (k === 0 || pos > positions[k - 1])),
        `stages seen out of order: ${stages.join(' → ')}`,
      );
      if (i === 0) await recordHistory(api.temporal, workflowId, 'purchase-balance-granted');
    }
  });
});
