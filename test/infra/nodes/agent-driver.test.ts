import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  createNodeDriver,
  type NodeDriver,
  NodeRejectedError,
  NodeUnreachableError,
} from '../../../infra/nodes';
import { type RunningAgent, startAgent } from '../../support/agent';
import {
  type Closeable,
  freePort,
  killAllStarted,
  startTlsTarget,
  startXrayServer,
  type XrayServer,
} from '../../support/xray';

// The HTTP agent driver against the real agent and a real Xray.
describe('agent node driver', function () {
  this.timeout(60_000);
  let tlsTarget: Closeable;
  let xray: XrayServer;
  let agent: RunningAgent;
  let driver: NodeDriver;

  before(async () => {
    tlsTarget = await startTlsTarget();
    xray = await startXrayServer({ targetPort: tlsTarget.port });
    agent = await startAgent(xray);
    driver = createNodeDriver({
      id: 'n1',
      driver: 'agent',
      agent_url: `${agent.url}/`,
      agent_token: agent.token,
    });
  });

  after(async () => {
    await driver?.close();
    await agent?.stop();
    await xray?.stop();
    await tlsTarget?.close();
    await killAllStarted();
  });

  it('adds, lists, reports and removes clients', async () => {
    const uuid = randomUUID();
    await driver.addClient({ email: 'kim@example.com', uuid });
    await driver.addClient({ email: 'kim@example.com', uuid, flow: 'xtls-rprx-vision' });
    assert.deepEqual(await driver.listClients(), [{ email: 'kim@example.com', uuid }]);
    const health = await driver.health();
    assert.equal(health.ok, true);
    assert.equal(health.users, 1);
    assert.match(health.xrayVersion ?? '', /^\d+\.\d+\.\d+/);
    assert.deepEqual(await driver.stats(true), []);
    await driver.removeClient('kim@example.com');
    await driver.removeClient('kim@example.com');
    assert.deepEqual(await driver.listClients(), []);
  });

  it('a wrong token or bad input is a permanent NodeRejectedError', async () => {
    const wrong = createNodeDriver({
      id: 'n1',
      driver: 'agent',
      agentUrl: agent.url,
      agentToken: 'wrong-token',
    });
    await assert.rejects(
      wrong.listClients(),
      (e: Error) => e instanceof NodeRejectedError && e.status === 401,
    );
    await assert.rejects(
      driver.addClient({ email: 'x', uuid: 'not-a-uuid' }),
      (e: Error) => e instanceof NodeRejectedError && e.status === 400 && !e.retryable,
    );
  });

  it('an unreachable node or a down Xray is a retryable NodeUnreachableError', async () => {
    const port = await freePort();
    const gone = createNodeDriver({
      id: 'n2',
      driver: 'agent',
      agentUrl: `http://127.0.0.1:${port}`,
      agentToken: 't',
    });
    await assert.rejects(gone.listClients(), (e: Error) => e instanceof NodeUnreachableError && e.retryable);

    await xray.kill();
    try {
      await assert.rejects(driver.addClient({ email: 'late', uuid: randomUUID() }), NodeUnreachableError);
      assert.equal((await driver.health()).ok, false);
    } finally {
      await xray.start();
    }
    await driver.removeClient('late');
  });

  it('refuses incomplete node records', () => {
    assert.throws(() => createNodeDriver({ id: 'n3', driver: 'agent' }), /agent_url/);
    assert.throws(() => createNodeDriver({ id: 'n4', driver: 'ssh' }), /ssh\.host/);
  });
});
