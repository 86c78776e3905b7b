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
  payment_link_latency_ms: ['mode', 'n', 'p50', 'p95', 'max', 'errors', 'target', 'ok'],
  payment_to_key_ms: ['n', 'p50', 'p95', 'max', 'failed', 'target', 'ok'],
  webhook_handler_ms: ['mode', 'n', 'p50', 'p95', 'max', 'errors'],
  purchases_throughput_per_s: ['n', 'completed', 'lost', 'value', 'elapsed_s', 'money_violations', 'ok'],
  reminders_delivery: ['n', 'delivered', 'deliver_all_s', 'peak_per_s', 'telegram_429', 'ok'],
  worker_rss_mb: ['n', 'idle_mb', 'value', 'delta_mb', 'per_workflow_kb'],
};

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
    const returned = await runBench({ scale: 0.05, out: c.out });
    const { figures, rest } = split(c.text());
    assert.deepEqual(figures, JSON.parse(JSON.stringify(returned)));
    for (const f of figures) {
      assert.equal(f.error, undefined, `${f.name} failed: ${f.error}`);
      assert.equal(f.scale, 0.05);
    }
    assert.deepEqual([...new Set(figures.map((f) => f.name))], [...BENCHMARKS]);
    for (const f of figures) {
      for (const key of BENCH_KEYS[f.name as string]) assert.ok(key in f, `${f.name} lacks ${key}`);
    }
    const throughput = figures.find((f) => f.name === 'purchases_throughput_per_s')!;
    assert.equal(throughput.money_violations, 0);
    assert.equal(throughput.lost, 0);
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
