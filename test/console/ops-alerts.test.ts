import assert from 'node:assert/strict';
import { createDatabaseActivities } from '../../activities/database';
import { breakerAlert, createOpsAlerter } from '../../infra/ops-alerts';
import { createBreakers } from '../../infra/circuit-breaker';
import { createLogger } from '../../infra/logger';
import type { NodeDriver } from '../../infra/nodes/driver';
import { insertUser, uniqueTelegramId } from '../api/fixtures';
import { type ApiHarness, startApiOnSystem } from '../api/harness';
import { OPS_WATCH_WORKFLOW_TYPE, opsWatchWorkflowId } from '../../workflows/ops-alert-messages';
import type { PurchaseSystem } from '../support/system';

const CHAT = -1001234567890;
const REPEAT_MS = 15 * 60_000;

/**
 * Ops alerts reach the admin chat (ADMIN_ALERT_CHAT_ID) through the real telegram queue and the Bot API
 * emulator: raised by workflow activities (revoke failed, node down/up, stuck purchases) and by the API
 * (MONEY ALARM, a provider's circuit breaker opening); the same alert at most once per ALERT_REPEAT, the
 * next one carrying the count held back.
 */
describe('console: ops alerts to the admin chat', function () {
  this.timeout(120_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  let nodeBroken = false;
  const logger = createLogger('ops-alerts-test');
  const sql = (q: string, p: unknown[] = []) => sys.orm.em.getConnection().execute(q, p);
  const adminTexts = () => sys.telegram.sentTo(CHAT).map((c) => String(c.params.text));
  const alertArrives = (pattern: RegExp) =>
    sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === CHAT && pattern.test(String(c.params.text)),
      30_000,
    );
  const alerter = () =>
    createOpsAlerter({
      orm: sys.orm,
      temporal: sys.client,
      logger,
      settings: { chatId: String(CHAT), repeatMs: REPEAT_MS, taskQueue: sys.queue },
    });

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem({
      alerts: { chatId: String(CHAT), repeatMs: REPEAT_MS },
      // A switch on the real node's health, as a dead agent would answer.
      wrapDriver: (driver: NodeDriver): NodeDriver => ({
        ...driver,
        addClient: (c) => driver.addClient(c),
        removeClient: (e) => driver.removeClient(e),
        listClients: () => driver.listClients(),
        stats: (r) => driver.stats(r),
        close: () => driver.close(),
        health: async () => {
          if (nodeBroken) throw new Error('connect ECONNREFUSED (test: node switched off)');
          return driver.health();
        },
      }),
    });
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys, { ADMIN_ALERT_CHAT_ID: String(CHAT), ALERT_REPEAT: '15m' });
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  it('sends the same alert once per ALERT_REPEAT, and the next one says how many were held back', async () => {
    const db = createDatabaseActivities({ orm: sys.orm, logger, alerter: alerter() });
    // What subscriptionWorkflow raises when a node refuses a revoke, three times in a row.
    for (const n of [1, 2, 3]) {
      await db.raiseOpsAlert({ kind: 'revoke_failed', detail: `subscription s-${n}: node refused` });
    }
    await alertArrives(/revoke_failed/);
    const [w] = await sql(
      `select held_back, last_detail from alert_windows where alert_key = 'revoke_failed'`,
    );
    assert.equal(w.held_back, 2, 'two repeats held back inside the window');
    assert.equal(w.last_detail, 'subscription s-3: node refused');

    // The window passes (as if 16 minutes went by): the next raise is sent, with the count.
    await sql(
      `update alert_windows set last_sent_at = last_sent_at - interval '16 minutes' where alert_key = 'revoke_failed'`,
    );
    await db.raiseOpsAlert({ kind: 'revoke_failed', detail: 'subscription s-4: node refused' });
    const second = await alertArrives(/revoke_failed[\s\S]*\+2 more/);
    assert.match(String(second.params.text), /subscription s-4/);
    const revokeAlerts = adminTexts().filter((t) => t.includes('revoke_failed'));
    assert.equal(revokeAlerts.length, 2, `one message per window, got ${JSON.stringify(revokeAlerts)}`);
    assert.match(revokeAlerts[0], /subscription s-1/);
    assert.doesNotMatch(revokeAlerts[0], /more/);
    const [after] = await sql(`select held_back from alert_windows where alert_key = 'revoke_failed'`);
    assert.equal(after.held_back, 0, 'the count starts again');
  });

  it('node down and node up reach the chat from the health loop, each once', async () => {
    nodeBroken = true;
    const health = await sys.client.workflow.start('nodeHealthWorkflow', {
      workflowId: `node-health-alerts-${sys.queue}`,
      taskQueue: sys.queue,
      args: [{ intervalMs: 300, failuresToDown: 2 }],
    });
    try {
      const down = await alertArrives(/node_down/);
      assert.match(String(down.params.text), /ECONNREFUSED/);
      nodeBroken = false;
      await alertArrives(/node_up/);
      // Later rounds (node up all along) add nothing; the down round that was seen once stays once.
      const [status] = await sql(`select status from vpn_nodes where id = ?`, [sys.nodeId]);
      assert.equal(status.status, 'up');
      assert.equal(adminTexts().filter((t) => t.includes('node_down')).length, 1);
    } finally {
      await health.terminate();
    }
  });

  it('a MONEY ALARM in the API (paid after the purchase ended) reaches the chat', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const { link, handle, paymentId } = await sys.buy(tg, 'month-1');
    await handle.terminate();
    sys.yookassa.pay(String(link.providerPaymentId));
    const res = await api.call('POST', '/api/v1/payments/webhook', {
      token: null,
      body: {
        type: 'notification',
        event: 'payment.succeeded',
        object: {
          id: link.providerPaymentId,
          status: 'succeeded',
          amount: { value: '1.00', currency: 'RUB' },
        },
      },
    });
    assert.equal(res.status, 200);
    const alarm = await alertArrives(new RegExp(`money_alarm[\\s\\S]*${paymentId}`));
    assert.match(String(alarm.params.text), /MONEY ALARM/);
  });

  it("a provider's circuit breaker opening reaches the chat", async () => {
    const breakers = createBreakers(
      sys.orm,
      { failures: 2, openForMs: 60_000 },
      { logger, onOpen: breakerAlert(alerter(), logger) },
    );
    await breakers.recordFailure('yookassa', 'HTTP 502 from the test');
    await breakers.recordFailure('yookassa', 'HTTP 502 from the test');
    const alert = await alertArrives(/breaker_open/);
    assert.match(String(alert.params.text), /yookassa circuit breaker open[\s\S]*HTTP 502/);
    await breakers.recordSuccess('yookassa');
  });

  it('purchases stuck in a stage past the threshold raise one stuck_purchases alert', async () => {
    const tg = uniqueTelegramId();
    await insertUser(sys.orm, tg);
    const { handle, paymentId } = await sys.buy(tg, 'month-1'); // waits for a payment that never comes
    const watch = await sys.client.workflow.start(OPS_WATCH_WORKFLOW_TYPE, {
      workflowId: opsWatchWorkflowId(sys.queue),
      taskQueue: sys.queue,
      args: [{ intervalMs: 500, stuckAfterMs: 1, stuckAtLeast: 1 }],
    });
    try {
      const alert = await alertArrives(/stuck_purchases/);
      assert.match(String(alert.params.text), new RegExp(`purchase-${paymentId} \\(AWAITING_PAYMENT\\)`));
    } finally {
      await watch.terminate();
      await handle.terminate();
    }
  });
});
