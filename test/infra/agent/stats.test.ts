import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { newDataDir, spawnAgent } from '../../support/agent';
import {
  type Closeable,
  httpGetViaSocks,
  killAllStarted,
  startHttpTarget,
  startTlsTarget,
  startXrayClient,
  startXrayServer,
  type XrayClient,
  type XrayServer,
} from '../../support/xray';

type Agent = Awaited<ReturnType<typeof spawnAgent>>;
const BODY = 8 * 16 * 1024; // /slow?chunks=8 sends 128 KiB

// Traffic accounting through the real `npm run agent` process: per-user bytes from Xray, persisted,
// surviving agent and Xray restarts, never counted twice.
describe('node agent traffic stats', function () {
  this.timeout(60_000);
  let tlsTarget: Closeable;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  let xray: XrayServer;
  let agent: Agent;
  let client: XrayClient;
  const dataDir = newDataDir();

  before(async () => {
    tlsTarget = await startTlsTarget();
    web = await startHttpTarget();
    xray = await startXrayServer({ targetPort: tlsTarget.port });
    agent = await spawnAgent(xray, dataDir);
    const uuid = randomUUID();
    assert.equal((await agent.call('PUT', '/clients/heidi', { uuid })).status, 201);
    client = await startXrayClient(xray.linkFor(uuid));
  });

  after(async () => {
    await client?.stop();
    await agent?.stop();
    await xray?.stop();
    await web?.close();
    await tlsTarget?.close();
    await killAllStarted();
  });

  const download = async () => {
    const r = await httpGetViaSocks(client.socksPort, web.url('/slow?chunks=8&ms=1'));
    assert.equal(r.body.length, BODY);
  };
  const heidi = async (a: Agent, reset = false) => {
    const r = await a.call('GET', `/stats?reset=${reset}`);
    assert.equal(r.status, 200);
    return (r.json.stats as { email: string; uplink: number; downlink: number }[]).find(
      (s) => s.email === 'heidi',
    );
  };

  it('counts a user’s traffic and keeps it exactly across an agent restart', async () => {
    await download();
    const before = await heidi(agent);
    assert.ok(before, 'heidi has stats');
    assert.ok(before.downlink >= BODY && before.downlink < BODY * 1.2, `downlink ${before.downlink}`);
    assert.ok(before.uplink > 0);

    const epoch = (await agent.call('GET', '/stats')).json.epoch;
    assert.match(epoch, /^[0-9a-f]{16}$/);
    await agent.stop();
    agent = await spawnAgent(xray, dataDir);
    assert.deepEqual(
      await heidi(agent),
      before,
      'same totals after the restart: nothing lost, nothing doubled',
    );
    assert.equal(
      (await agent.call('GET', '/stats')).json.epoch,
      epoch,
      'the same epoch: the orchestrator adds only growth',
    );

    await download();
    const after = await heidi(agent);
    assert.ok(after);
    const delta = after.downlink - before.downlink;
    assert.ok(delta >= BODY && delta < BODY * 1.2, `second download counted once (delta ${delta})`);
  });

  it('keeps bytes the reconcile loop harvested when Xray crashes; reset=true hands them over once', async () => {
    const before = await heidi(agent);
    assert.ok(before);
    await download();
    await sleep(1_000); // > AGENT_RECONCILE_INTERVAL (300ms): the loop has moved Xray's counters to disk
    await xray.restart('SIGKILL'); // Xray's own counters are gone now
    const afterCrash = await heidi(agent);
    assert.ok(afterCrash);
    const delta = afterCrash.downlink - before.downlink;
    assert.ok(delta >= BODY && delta < BODY * 1.2, `download before the crash counted (delta ${delta})`);

    const epoch = (await agent.call('GET', '/stats')).json.epoch;
    const handedOver = await heidi(agent, true);
    assert.deepEqual(handedOver, afterCrash);
    assert.equal(await heidi(agent), undefined, 'after reset the totals start from zero');
    assert.notEqual((await agent.call('GET', '/stats')).json.epoch, epoch, 'a reset starts a new epoch');
  });
});
