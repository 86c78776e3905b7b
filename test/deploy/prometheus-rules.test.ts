import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RULES = path.resolve(__dirname, '../../deploy/prometheus/alerts.yml');

function promtool(args: string[], input?: string) {
  return spawnSync('promtool', args, { encoding: 'utf8', input });
}

/** deploy/prometheus/alerts.yml is valid for Prometheus, and its rules fire on what /metrics exposes. */
describe('deploy: Prometheus alert rules', () => {
  before(function () {
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    } catch {
      if (process.env.CI)
        throw new Error('promtool is missing (Debian package prometheus; .ci/run installs it)');
      this.skip();
    }
  });

  it('promtool check rules passes', () => {
    const out = promtool(['check', 'rules', RULES]);
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /SUCCESS: 8 rules found/);
  });

  it('the rules fire on the metrics the system exports (promtool test rules)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'prom-rules-'));
    const test = path.join(dir, 'test.yml');
    writeFileSync(
      test,
      `rule_files: [${JSON.stringify(RULES)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'ops_alerts_total{kind="revoke_failed"}'
        values: '0 0 1 1 1'
      - series: 'payments_orphaned_total{provider="yookassa"}'
        values: '0 1 1 1 1'
      - series: 'vpn_node_up{node="nl-1"}'
        values: '1 0 0 0 0'
      - series: 'circuit_breaker_state{system="yookassa"}'
        values: '0 1 1 1 1'
    alert_rule_test:
      - eval_time: 4m
        alertname: RevokeFailed
        exp_alerts: [{ exp_labels: { severity: page, kind: revoke_failed } , exp_annotations: { summary: "A node refused to remove an expired client: access keeps running until it does" } }]
      - eval_time: 4m
        alertname: NodeDown
        exp_alerts: [{ exp_labels: { severity: warning, node: nl-1 }, exp_annotations: { summary: "VPN node nl-1 is down or disabled" } }]
      - eval_time: 4m
        alertname: ProviderCircuitOpen
        exp_alerts: [{ exp_labels: { severity: page, system: yookassa }, exp_annotations: { summary: "Circuit breaker on yookassa is open: new payments through it are refused" } }]
      - eval_time: 4m
        alertname: NoNodeAvailable
        exp_alerts: []
`,
    );
    const out = promtool(['test', 'rules', test]);
    assert.equal(out.status, 0, out.stdout + out.stderr);
  });
});
