import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { withFileLock } from '../../../infra/agent/file-lock';
import { newDataDir, TS_NODE_ARGS } from '../../support/agent';

const run = promisify(execFile);
const RACER = path.join(__dirname, 'fixtures', 'lock-racer.ts');

/** The pid of a process that has exited: what a kill -9'd agent leaves in its lock file. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('agent store lock (infra/agent/file-lock.ts)', function () {
  this.timeout(120_000);

  it('two processes racing to break the same stale lock: exactly one owner at a time, every round', async () => {
    const dir = newDataDir();
    const rounds = 25;
    const racers = 2;
    // Each round starts from a lock left by a dead agent (an older agent's bare-pid format).
    for (let r = 0; r < rounds; r++) writeFileSync(path.join(dir, `lock-${r}`), String(deadPid()));
    const results = await Promise.all(
      Array.from({ length: racers }, (_, i) =>
        run(process.execPath, [...TS_NODE_ARGS, RACER, dir, String(i), String(rounds), String(racers)]),
      ),
    );
    const reports = results.map((r) => JSON.parse(r.stdout.trim()) as { entered: number; overlaps: number });
    assert.deepEqual(
      reports.map((r) => r.overlaps),
      [0, 0],
      'no racer ever found another one inside the lock',
    );
    assert.deepEqual(
      reports.map((r) => r.entered),
      [rounds, rounds],
      'each racer got the lock once per round',
    );
    const left = readdirSync(dir).filter((f) => !f.startsWith('ready-'));
    assert.deepEqual(left, [], 'no lock, marker or temp files left behind');
  });

  it('never breaks the lock of a live owner, however long it holds it', async () => {
    const dir = newDataDir();
    const lock = path.join(dir, 'state.lock');
    let release!: () => void;
    const held = withFileLock(lock, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(
      withFileLock(lock, async () => 'got in', 300),
      /timed out waiting for lock/,
    );
    release();
    await held;
    assert.equal(await withFileLock(lock, async () => 'after release'), 'after release');
  });

  it('breaks a lock whose pid was recycled by another process (pid alive, start time differs)', async () => {
    const dir = newDataDir();
    const lock = path.join(dir, 'state.lock');
    // Our own pid is alive, but the tag says it belonged to a process started at another time.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, start: '1', token: 'old' }));
    assert.equal(await withFileLock(lock, async () => 'taken', 1_000), 'taken');
  });
});
