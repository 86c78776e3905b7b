// docs/operations.md: the operator guide names real things (workflow types, search attributes, stages,
// routes, files), and carries the exact query strings operators paste.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PURCHASE_STAGES } from '../../api/schemas';
import { buildPurchasesQuery } from '../../api/stuck-purchases';
import { SEARCH_ATTRIBUTES } from '../../infra/temporal';
import { ROOT, read } from './env-names';

const doc = read('docs/operations.md');

describe('deployment: docs/operations.md', () => {
  it('has the exact Temporal queries for stuck purchases, a telegram id and a payment id', () => {
    for (const q of [
      'WorkflowType="purchaseWorkflow" AND ExecutionStatus="Running" AND PurchaseStage="AWAITING_PAYMENT" AND StageEnteredAt < "2026-11-22T10:00:00Z"',
      'temporal workflow list --query \'WorkflowType="purchaseWorkflow" AND ExecutionStatus="Running"',
      'WorkflowType="purchaseWorkflow" AND TelegramId="123456"',
      'PaymentId="',
      '/api/v1/admin/purchases?stage=AWAITING_PAYMENT&older_than=30m',
    ]) {
      assert.ok(doc.includes(q), q);
    }
  });

  it('writes queries the way the admin API builds them', () => {
    const now = new Date('2026-11-22T10:30:00Z');
    const api = buildPurchasesQuery({ stage: 'AWAITING_PAYMENT', olderThanMs: 30 * 60_000, now });
    // The API prints milliseconds; otherwise the same text.
    assert.equal(
      api.replace('.000Z', 'Z'),
      'WorkflowType="purchaseWorkflow" AND ExecutionStatus="Running" AND PurchaseStage="AWAITING_PAYMENT" AND StageEnteredAt < "2026-11-22T10:00:00Z"',
    );
    assert.ok(
      buildPurchasesQuery({ telegramId: '123456', includeClosed: true }).endsWith('TelegramId="123456"'),
    );
  });

  it('names only real workflow types, search attributes and stages', () => {
    const workflows = ['purchase', 'subscription', 'node-health', 'stars-refund']
      .map((f) => path.join(ROOT, 'workflows', `${f}.ts`))
      .filter(existsSync)
      .map((f) => read(path.relative(ROOT, f)))
      .join('\n');
    for (const type of new Set([...doc.matchAll(/WorkflowType="(\w+)"/g)].map((m) => m[1]))) {
      assert.match(workflows, new RegExp(`export async function ${type}\\(`), `workflow type ${type}`);
    }
    const attributes = Object.keys(SEARCH_ATTRIBUTES);
    for (const name of ['TelegramId', 'PaymentId', 'PurchaseStage', 'StageEnteredAt', 'NodeId']) {
      assert.ok(attributes.includes(name), name);
      assert.ok(doc.includes(name), `the guide explains ${name}`);
    }
    for (const stage of new Set([...doc.matchAll(/PurchaseStage="(\w+)"/g)].map((m) => m[1]))) {
      assert.ok((PURCHASE_STAGES as string[]).includes(stage), stage);
    }
    for (const stage of PURCHASE_STAGES) assert.ok(doc.includes(`\`${stage}\``), `stage ${stage} is listed`);
  });

  it('covers deployment, nodes, webhooks, the runbook, backups and security', () => {
    for (const needle of [
      'docker compose up -d',
      'infra/deploy/install-node.sh',
      '/api/v1/admin/nodes',
      'https://vpn.example.com/api/v1/payments/webhook',
      'payment.succeeded',
      'payment.canceled',
      'refund.succeeded',
      'BOT_MODE=webhook',
      'TELEGRAM_WEBHOOK_SECRET',
      'temporal workflow reset',
      'temporal activity complete',
      'Idempotence-Key: refund-',
      'refundStarPayment',
      'PROVISIONING',
      '"status":"disabled"',
      'patched(',
      'deprecatePatch',
      'runReplayHistories',
      'test/fixtures',
      'Worker Versioning',
      'scripts/backup.sh',
      'restore.sh',
      'temporal_visibility',
      '.data/',
      'TRUSTED_PROXIES',
      'YOOKASSA_WEBHOOK_ALLOW',
      'AGENT_TLS_CERT',
      'ADMIN_TOKEN',
      'API_TOKEN',
      'AGENT_TOKEN',
    ]) {
      assert.ok(doc.includes(needle), needle);
    }
  });

  it('links only to files that exist', () => {
    for (const m of doc.matchAll(/\]\((\.\.?\/[^)#]+)\)/g)) {
      assert.ok(existsSync(path.resolve(ROOT, 'docs', m[1])), m[1]);
    }
    for (const file of [
      'infra/deploy/install-node.sh',
      'scripts/backup.sh',
      'scripts/restore.sh',
      'docker-compose.yml',
    ]) {
      assert.ok(existsSync(path.join(ROOT, file)), file);
    }
  });
});
