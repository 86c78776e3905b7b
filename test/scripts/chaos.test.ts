import assert from 'node:assert/strict';
import type { Figure } from '../../scripts/bench/report';
import { parseOnly, runChaos } from '../../scripts/chaos/run';

/**
 * `npm run chaos` end to end, one short scenario: the real PostgreSQL is stopped and started again in
 * the middle of a burst of purchases, and every paid purchase must still end granted, once.
 */
describe('npm run chaos (short pg_restart)', function () {
  this.timeout(240_000);

  it('reports 0 money violations, 0 lost payments and subscriptions after a PostgreSQL restart', async () => {
    let printed = '';
    const figures = await runChaos({
      scale: 0.2, // 6 purchases
      only: parseOnly('pg-restart'),
      out: { write: (chunk: string) => (printed += chunk) },
    });
    const [f] = figures as Array<Figure & Record<string, number | boolean>>;
    assert.equal(f.name, 'chaos_pg_restart', JSON.stringify(f));
    // What the operator reads: one JSON line per scenario with the verdict, then the table.
    const line = JSON.parse(printed.split('\n')[0]);
    assert.equal(line.money_violations, 0, printed);
    assert.equal(line.ok, true, printed);
    assert.ok(Number(f.outage_s) > 0, 'the database really was down');
    assert.equal(f.completed, f.purchases, JSON.stringify(f.not_granted));
    assert.equal(f.lost, 0);
    assert.equal(f.lost_payments, 0);
    assert.equal(f.lost_subscriptions, 0);
    assert.equal(f.duplicate_clients, 0);
    assert.match(printed, /chaos_pg_restart .*│ yes │/s);
  });

  it('names the unknown scenario in CHAOS_ONLY', () => {
    assert.throws(() => parseOnly('pg_restart,nope'), /unknown scenario nope; known: .*temporal_restart/);
  });
});
