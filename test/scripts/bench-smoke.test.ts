import assert from 'node:assert/strict';
import { BENCHMARKS, runBench } from '../../scripts/bench/run';
import { distribution, peakInWindow, percentile } from '../../scripts/bench/stats';
import { runChaos } from '../../scripts/chaos/run';

// `npm run bench` / `npm run chaos` are benchmarks, not tests: nothing here asserts a duration or a
// target. This only checks that the scripts run end to end at a tiny scale and print what they promise:
// one JSON object per line with the expected keys, then the summary table and the machine, and that the
// money invariant holds.

function capture() {
  const chunks: string[] = [];
  return { out: { write: (chunk: string) => chunks.push(chunk) }, text: () => chunks.join('') };
}

/** The leading JSON lines (every one must parse), then the rest of the output. */
function split(text: string): { figures: Array<Record<string, unknown>>; rest: string } {
  const lines = text.split('\n');
  const figures: Array<Record<string, unknown>> = [];
  let i = 0;
  for (; i < lines.length && lines[i].startsWith('{'); i++) figures.push(JSON.parse(lines[i]));
  return { figures, rest: lines.slice(i).join('\n') };
}

const BENCH_KEYS: Record<string, string[]> = {
  payment_link_latency_ms: ['id', 'mode', 'n', 'p50', 'p95', 'max', 'errors', 'status_503', 'ok'],
  payment_to_key_ms: ['id', 'n', 'p50', 'p95', 'failed', 'baseline', 'baseline_p95', 'ratio_p95', 'ok'],
  webhook_handler_ms: ['mode', 'n', 'p50', 'p95', 'max', 'errors'],
  http_throughput_rps: ['id', 'mode', 'n', 'value', 'p95', 'statuses'],
  purchases_throughput_per_s: [
    'id',
    'n',
    'completed',
    'lost',
    'value',
    'baseline_value',
    'ratio',
    'money_violations',
  ],
  burst_key_messages: ['id', 'n', 'value', 'baseline_value', 'ratio', 'telegram_429', 'out_of_order_share'],
  reminders_delivery: [
    'id',
    'n',
    'delivered',
    'undelivered_in_window',
    'value',
    'baseline_value',
    'ratio',
    'telegram_429',
    'ok',
  ],
  telegram_budget_sweep: ['mode', 'n', 'delivered', 'value', 'baseline_value', 'ratio', 'telegram_429'],
  worker_startup_ms: ['mode', 'value'],
  worker_rss_mb: [
    'id',
    'n',
    'idle_mb',
    'value',
    'slope_kb_per_workflow',
    'temporal_db_bytes_per_subscription',
  ],
  npm_test_wall_s: ['id', 'value', 'source'],
};

/** Figures measured against a baseline of the same run carry it, and the ratio, beside their value. */
function assertBaselines(figures: Array<Record<string, unknown>>): void {
  const withBaseline = figures.filter((f) => f.baseline !== undefined);
  const kinds = new Set(withBaseline.map((f) => f.baseline));
  for (const kind of ['noop_shape', 'bare_express', 'telegram_budget', 'configured_rate']) {
    assert.ok(kinds.has(kind), `a figure against the ${kind} baseline`);
  }
  for (const f of withBaseline) {
    const base = f.baseline_p95 ?? f.baseline_value;
    assert.equal(typeof base, 'number', `${f.name}/${f.mode}: the baseline's own figure`);
    assert.ok('ratio' in f || 'ratio_p95' in f, `${f.name}/${f.mode}: the ratio`);
  }
  const http = figures.filter((f) => f.name === 'http_throughput_rps').map((f) => f.mode);
  assert.deepEqual(http, ['bare_express_hello', 'duplicate_webhook', 'sub']);
  // The payment link beside the engine's own: the no-op shape's Update-with-Start at the same concurrency.
  const links = figures
    .filter((f) => f.name === 'payment_link_latency_ms' && f.baseline === 'noop_shape')
    .map((f) => f.mode);
  assert.deepEqual(links, ['sequential', 'concurrent_10', 'concurrent_50']);
  const rss = figures.filter((f) => f.name === 'worker_rss_mb');
  assert.ok(rss.length >= 2, 'P5 at two Ns at least, for the slope');
  assert.ok(
    rss.every((f) => (f.temporal_db_bytes_per_subscription as number) > 0),
    'the Temporal database grows per sleeping subscription',
  );
}

function assertTail(rest: string, title: RegExp): void {
  assert.match(rest, title);
  assert.match(rest, /┌.*┐/, 'a summary table');
  assert.match(rest, /\nmachine: .+ \d+ cores, [\d.]+ GiB RAM, .+ node v\d+/, 'the machine it ran on');
}

describe('scripts: bench and chaos (smoke, tiny scale)', function () {
  this.timeout(600_000);

  it('percentiles and the sliding-window peak are computed as documented', () => {
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(
      percentile(
        [...Array(100).keys()].map((i) => i + 1),
        95,
      ),
      95,
    );
    assert.deepEqual(distribution([10, 20]), { n: 2, p50: 10, p95: 20, max: 20 });
    assert.equal(peakInWindow([0, 100, 999, 1000, 1500]), 3);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('npm run bench: one JSON line per figure, every benchmark, then the table and the machine', async () => {
    const c = capture();
    // One Telegram rate in the sweep keeps the smoke run short; the figures' shape is the same.
    process.env.BENCH_TELEGRAM_RATES = '30';
    const returned = await runBench({ scale: 0.005, out: c.out }).finally(() => {
      delete process.env.BENCH_TELEGRAM_RATES;
    });
    const { figures, rest } = split(c.text());
    assert.deepEqual(figures, JSON.parse(JSON.stringify(returned)));
    for (const f of figures) {
      assert.equal(f.error, undefined, `${f.name} failed: ${f.error}`);
      assert.equal(f.scale, 0.005);
    }
    const names = new Set(figures.map((f) => f.name as string));
    for (const b of BENCHMARKS) assert.ok(names.has(b), `${b} printed`);
    assert.ok(names.has('burst_key_messages'), 'P2b beside P2');
    for (const f of figures) {
      for (const key of BENCH_KEYS[f.name as string]) assert.ok(key in f, `${f.name} lacks ${key}`);
    }
    const throughput = figures.find((f) => f.name === 'purchases_throughput_per_s')!;
    assert.equal(throughput.money_violations, 0);
    assert.equal(throughput.lost, 0);
    assertBaselines(figures);
    assert.match(rest, /load average \(1\/5\/15 min\): [\d.]+/, 'the load the figures were measured under');
    assertTail(rest, /npm run bench — summary/);
  });

  it('npm run chaos: one JSON line per scenario, and the money invariant holds', async () => {
    const c = capture();
    await runChaos({ scale: 0.1, only: ['telegram_storm'], out: c.out });
    const { figures, rest } = split(c.text());
    assert.equal(figures.length, 1);
    const [f] = figures;
    assert.equal(f.error, undefined, String(f.error));
    assert.equal(f.name, 'chaos_telegram_storm');
    for (const key of [
      'purchases',
      'completed',
      'lost',
      'telegram_429',
      'duplicate_activation_messages',
      'blocked_chat_calls_after_403',
      'money_violations',
      'ok',
    ]) {
      assert.ok(key in f, `lacks ${key}`);
    }
    assert.equal(f.money_violations, 0, JSON.stringify(f.money_details));
    assert.equal(f.lost, 0);
    assertTail(rest, /npm run chaos — summary/);
  });
});
