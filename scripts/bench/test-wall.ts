import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Figure } from './report';

/** Where scripts/test.sh (`npm test`) records how long its last run took. */
export const TEST_WALL_FILE = path.resolve(__dirname, '..', '..', '.data', 'last-test-wall.json');

/** P7. The last recorded `npm test` wall time (the bench never runs the suite itself). */
export function testWallTime(file = TEST_WALL_FILE): Figure[] {
  let recorded: { wall_s?: number; finished_at?: string; exit_code?: number; commit?: string } | undefined;
  try {
    recorded = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    recorded = undefined;
  }
  return [
    {
      id: 'P7',
      name: 'npm_test_wall_s',
      value: recorded?.wall_s ?? null,
      recorded_at: recorded?.finished_at ?? null,
      exit_code: recorded?.exit_code ?? null,
      commit: recorded?.commit ?? null,
      source: recorded
        ? path.relative(process.cwd(), file)
        : `not recorded yet (${path.basename(file)} is written by npm test)`,
    },
  ];
}
