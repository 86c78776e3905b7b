// scripts/backup.sh and scripts/restore.sh against a real PostgreSQL: dump, retention, the confirmation
// guard, and a restore that brings the data back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase } from '../support/services';
import { ROOT } from './env-names';

function script(name: string, args: string[], env: Record<string, string>, cwd: string) {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', name), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    input: '', // stdin is not a terminal: restore.sh must not prompt
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...env },
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('deployment: backup and restore scripts', function () {
  this.timeout(180_000);
  let dir: string;
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('dumps the database, prunes old dumps only, refuses to restore without --yes, and restores', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-backup-'));
    const backups = path.join(dir, 'backups');
    const { url, orm } = await freshDatabase();
    const conn = orm.em.getConnection();
    await conn.execute(
      `insert into tariffs (slug, name, price, duration_seconds) values ('backup-test', 'Backup test', 100, 3600)`,
    );
    // A password in the URL must reach pg_dump decoded and never on its command line (trust auth ignores it).
    const withPassword = url.replace('postgresql://postgres@', 'postgresql://postgres:p%40ss%2Fw0rd@');

    // An old dump to prune, a recent one to keep, and a file that is not ours.
    mkdirSync(backups);
    const old = path.join(backups, 'vpn-20200101T000000Z.dump');
    const recent = path.join(backups, 'vpn-20200102T000000Z.dump');
    const foreign = path.join(backups, 'notes.txt');
    for (const f of [old, recent, foreign]) writeFileSync(f, 'x');
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);
    utimesSync(old, daysAgo(10), daysAgo(10));
    utimesSync(foreign, daysAgo(30), daysAgo(30));
    utimesSync(recent, daysAgo(2), daysAgo(2));

    const backup = script(
      'backup.sh',
      ['--dir', backups],
      { DATABASE_URL: withPassword, BACKUP_KEEP_DAYS: '7' },
      dir,
    );
    assert.equal(backup.status, 0, backup.out);
    const dumps = readdirSync(backups).filter((f) => /^t_[0-9a-f]+-\d{8}T\d{6}Z\.dump$/.test(f));
    assert.equal(dumps.length, 1, readdirSync(backups).join());
    assert.equal(existsSync(old), false, 'a dump older than the retention is removed');
    assert.ok(existsSync(recent), 'a recent dump stays');
    assert.ok(existsSync(foreign), 'files that are not dumps stay');
    assert.ok(!readdirSync(backups).some((f) => f.endsWith('.partial')));
    const dump = path.join(backups, dumps[0]);

    await conn.execute(`delete from tariffs where slug = 'backup-test'`);

    const refused = script('restore.sh', [dump], { DATABASE_URL: url }, dir);
    assert.notEqual(refused.status, 0);
    assert.match(refused.out, /without --yes/);
    const still = await conn.execute(`select count(*)::int as n from tariffs where slug = 'backup-test'`);
    assert.equal(still[0].n, 0, 'nothing restored without --yes');

    const restored = script('restore.sh', ['--yes', dump], { DATABASE_URL: withPassword }, dir);
    assert.equal(restored.status, 0, restored.out);
    const rows = await conn.execute(`select name from tariffs where slug = 'backup-test'`);
    assert.deepEqual(rows, [{ name: 'Backup test' }]);
  });

  it('fails clearly without DATABASE_URL', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'vpn-backup-none-'));
    try {
      const r = script('backup.sh', [], {}, empty);
      assert.equal(r.status, 1);
      assert.match(r.out, /DATABASE_URL is not set/);
      assert.deepEqual(readdirSync(empty), [], 'nothing written');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
