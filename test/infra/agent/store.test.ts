import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentStore } from '../../../infra/agent/store';
import { newDataDir } from '../../support/agent';

describe('agent store', () => {
  it('serializes concurrent updates, also between two store instances (agent + CLI)', async () => {
    const dir = newDataDir();
    const [a, b] = [new AgentStore(dir), new AgentStore(dir)]; // separate queues: only the lock file orders them
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).update((s) => {
          s.clients[`u${i}`] = { uuid: randomUUID(), flow: '' };
        }),
      ),
    );
    assert.equal(Object.keys((await a.read()).clients).length, 40);
    assert.deepEqual(readdirSync(dir).sort(), ['state.json'], 'no temp or lock files left behind');
  });

  it('does not write when the update throws, unless asked to keep the change', async () => {
    const store = new AgentStore(newDataDir());
    await assert.rejects(
      store.update((s) => {
        s.clients.x = { uuid: randomUUID(), flow: '' };
        throw new Error('xray said no');
      }),
    );
    assert.deepEqual((await store.read()).clients, {});
    await assert.rejects(
      store.update((s, ctx) => {
        s.clients.y = { uuid: randomUUID(), flow: '' };
        ctx.saveEvenOnError = true;
        throw new Error('xray unavailable');
      }),
    );
    assert.deepEqual(Object.keys((await store.read()).clients), ['y']);
  });

  it('breaks a lock left by a dead process', async () => {
    const dir = newDataDir();
    writeFileSync(path.join(dir, 'state.lock'), '999999999');
    const store = new AgentStore(dir);
    await store.update((s) => {
      s.traffic.z = { uplink: 1, downlink: 2 };
    });
    assert.deepEqual((await store.read()).traffic, { z: { uplink: 1, downlink: 2 } });
    assert.equal(existsSync(path.join(dir, 'state.lock')), false);
  });
});
