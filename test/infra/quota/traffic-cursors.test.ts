import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { AgentService } from '../../../infra/agent/service';
import { AgentStore } from '../../../infra/agent/store';
import type { XrayApi } from '../../../infra/agent/xray-api';
import { enforceQuota } from '../../../infra/quota/enforce';
import { applyNodeCounters, counterDelta } from '../../../infra/quota/usage';
import { insertNode } from '../../activities/node-fixture';
import { freshDatabase } from '../../support/services';

// Issue 12: "no bytes lost or counted twice across agent restarts, Xray crashes or a lost stats response".
// The agent's totals are monotonic per epoch; the orchestrator adds only what is past its cursor.
describe('traffic counters: deltas taken idempotently per node, client and epoch', function () {
  this.timeout(60_000);
  let orm: MikroORM;
  const sql = (q: string, p: unknown[] = []) => orm.em.getConnection().execute(q, p);

  before(async () => {
    ({ orm } = await freshDatabase());
  });

  async function access(limitBytes: number | null = null) {
    const nodeId = await insertNode(orm);
    const [user] = await sql(`insert into users (telegram_id, language) values (?, 'en') returning id`, [
      800_000_000 + Math.floor(Math.random() * 100_000_000),
    ]);
    const [t] = await sql(
      `insert into tariffs (slug, name, price, duration_seconds, traffic_limit_bytes, traffic_reset)
       values (?, 'Q', 100, 2592000, ?, 'monthly') returning id`,
      [`q-${randomBytes(3).toString('hex')}`, limitBytes],
    );
    const id = randomUUID();
    await sql(
      `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
       values (?, ?, ?, ?, 'active', ?, ?, ?, now(), now() + interval '30 days')`,
      [id, user.id, t.id, nodeId, randomUUID(), id, randomBytes(24).toString('base64url')],
    );
    const deviceEmail = `dev-${randomUUID()}`;
    await sql(
      `insert into devices (subscription_id, name, client_uuid, client_email) values (?, 'phone', ?, ?)`,
      [id, randomUUID(), deviceEmail],
    );
    return { id, nodeId, deviceEmail };
  }
  const usage = async (id: string) => {
    const [r] = await sql(
      `select upload_bytes, download_bytes, period_upload_bytes, period_download_bytes from subscriptions where id = ?`,
      [id],
    );
    return {
      total: Number(r.upload_bytes) + Number(r.download_bytes),
      period: Number(r.period_upload_bytes) + Number(r.period_download_bytes),
    };
  };
  const stat = (email: string, uplink: number, downlink: number) => ({ email, uplink, downlink });

  it('counterDelta: same epoch adds the growth, a new epoch all of it, a smaller total nothing', () => {
    assert.deepEqual(counterDelta(undefined, 'e1', { uplink: 5, downlink: 7 }).up, 5);
    const prev = { epoch: 'e1', uplink: 5, downlink: 7 };
    assert.deepEqual(
      [
        counterDelta(prev, 'e1', { uplink: 9, downlink: 7 }).up,
        counterDelta(prev, 'e1', { uplink: 9, downlink: 7 }).down,
      ],
      [4, 0],
    );
    assert.equal(counterDelta(prev, 'e2', { uplink: 3, downlink: 1 }).up, 3);
    const back = counterDelta(prev, 'e1', { uplink: 2, downlink: 2 });
    assert.deepEqual([back.up, back.down, back.cursor.uplink, back.cursor.downlink], [0, 0, 5, 7]);
  });

  it('a repeated answer adds nothing; a lost one arrives with the next; a wiped store (new epoch) counts anew', async () => {
    const a = await access();
    const e1 = 'epoch-1';
    await applyNodeCounters(orm, a.nodeId, { epoch: e1, stats: [stat(a.id, 100, 1_000)] });
    // The worker retried the activity (its first answer was lost after the commit): same totals again.
    const again = await applyNodeCounters(orm, a.nodeId, { epoch: e1, stats: [stat(a.id, 100, 1_000)] });
    assert.equal(again.addedBytes, 0);
    assert.deepEqual(await usage(a.id), { total: 1_100, period: 1_100 });

    // A stats answer (totals 150/1500) was lost on the way; the next one (200/2000) brings those bytes too.
    await applyNodeCounters(orm, a.nodeId, {
      epoch: e1,
      stats: [stat(a.id, 200, 2_000), stat(a.deviceEmail, 10, 90)],
    });
    assert.deepEqual(await usage(a.id), { total: 2_300, period: 2_300 }, 'the device counts to its access');

    // The node was rebuilt: a new store, a new epoch, totals from zero.
    await applyNodeCounters(orm, a.nodeId, { epoch: 'epoch-2', stats: [stat(a.id, 5, 45)] });
    assert.deepEqual(await usage(a.id), { total: 2_350, period: 2_350 });
  });

  it('concurrent collections of the same answer count it once (one collection per node at a time)', async () => {
    const a = await access();
    const answer = { epoch: 'x', stats: [stat(a.id, 300, 700)] };
    await Promise.all([1, 2, 3, 4].map(() => applyNodeCounters(orm, a.nodeId, answer)));
    assert.deepEqual(await usage(a.id), { total: 1_000, period: 1_000 });
  });

  it('usage of an access is the sum over its nodes', async () => {
    const a = await access();
    const other = await insertNode(orm);
    await applyNodeCounters(orm, a.nodeId, { epoch: 'n1', stats: [stat(a.id, 1, 9)] });
    await applyNodeCounters(orm, other, { epoch: 'n2', stats: [stat(a.deviceEmail, 2, 18)] });
    assert.deepEqual(await usage(a.id), { total: 30, period: 30 });
  });

  it('the agent keeps its epoch and totals across restarts; a reset starts a new epoch', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-agent-epoch-'));
    let pending = [{ email: 'erin', uplink: 40, downlink: 60 }];
    // Stands in for Xray's stats service only: what it returns with reset is what it has counted since.
    const xray = {
      userTraffic: async () => {
        const out = pending;
        pending = [];
        return out;
      },
    } as unknown as XrayApi;
    const service = () => new AgentService({ store: new AgentStore(dir), xray, inboundTag: 'in' });
    const first = await service().counters(false);
    pending = [{ email: 'erin', uplink: 1, downlink: 1 }];
    const afterRestart = await service().counters(false); // a new process, the same store
    assert.equal(afterRestart.epoch, first.epoch);
    assert.deepEqual(afterRestart.stats, [{ email: 'erin', uplink: 41, downlink: 61 }]);
    const reset = await service().counters(true);
    assert.equal(reset.epoch, first.epoch, 'the reset answer still belongs to the old epoch');
    const next = await service().counters(false);
    assert.notEqual(next.epoch, first.epoch);
    assert.deepEqual(next.stats, []);
  });

  it('crossing the limit suspends once and writes one notice; a new month resets and restores', async () => {
    const a = await access(1_000);
    await enforceQuota(orm); // first look: records the period
    await applyNodeCounters(orm, a.nodeId, { epoch: 'q', stats: [stat(a.id, 400, 700)] });
    const first = await enforceQuota(orm);
    assert.equal(first.suspended, 1);
    const second = await enforceQuota(orm);
    assert.equal(second.suspended, 0, 'an access is suspended once');
    const notices = await sql(`select kind from quota_notices where subscription_id = ?`, [a.id]);
    assert.deepEqual(notices, [{ kind: 'traffic_exhausted' }]);

    await sql(`update subscriptions set traffic_period = '2000-01' where id = ?`, [a.id]); // last month
    const rolled = await enforceQuota(orm);
    assert.ok(rolled.reset >= 1 && rolled.restored >= 1);
    const [s] = await sql(
      `select suspended_at, period_upload_bytes + period_download_bytes as used, upload_bytes + download_bytes as lifetime
         from subscriptions where id = ?`,
      [a.id],
    );
    assert.deepEqual([s.suspended_at, Number(s.used), Number(s.lifetime)], [null, 0, 1_100]);
    const kinds = (
      await sql(`select kind from quota_notices where subscription_id = ? order by id`, [a.id])
    ).map((r) => r.kind);
    assert.deepEqual(kinds, ['traffic_exhausted', 'traffic_restored']);
  });
});
