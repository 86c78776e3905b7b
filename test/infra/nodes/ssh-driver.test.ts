import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  createNodeDriver,
  HostKeyMismatchError,
  type NodeDriver,
  NodeRejectedError,
} from '../../../infra/nodes';
import { newDataDir, type RunningAgent, startAgent } from '../../support/agent';
import { randomHostKeyLine, type Sshd, startSshd } from '../../support/sshd';
import {
  type Closeable,
  httpGetViaSocks,
  killAllStarted,
  startHttpTarget,
  startTlsTarget,
  startXrayClient,
  startXrayServer,
  type XrayServer,
} from '../../support/xray';

// The SSH driver against a real sshd on loopback, running the real agent CLI against a real Xray.
describe('SSH node driver', function () {
  this.timeout(90_000);
  let tlsTarget: Closeable;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  let xray: XrayServer;
  let sshd: Sshd;
  let httpAgent: RunningAgent;
  let driver: NodeDriver;
  const dataDir = newDataDir();

  const node = (hostKey: string) =>
    createNodeDriver({
      id: 'node-ssh-1',
      driver: 'ssh',
      ssh: {
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        private_key: sshd.privateKey,
        host_key: hostKey,
        command: sshd.agentCommand,
      },
    });

  before(async () => {
    tlsTarget = await startTlsTarget();
    web = await startHttpTarget();
    xray = await startXrayServer({ targetPort: tlsTarget.port });
    sshd = await startSshd({
      AGENT_DATA_DIR: dataDir,
      XRAY_API: xray.apiAddress,
      XRAY_INBOUND_TAG: xray.inboundTag,
      XRAY_BIN: xray.bin,
    });
    // The HTTP agent on the same node (same store, same Xray): both views must agree.
    httpAgent = await startAgent(xray, dataDir);
    driver = node(sshd.hostKeyLine);
  });

  after(async () => {
    await driver?.close();
    await httpAgent?.stop();
    await sshd?.stop();
    await xray?.stop();
    await web?.close();
    await tlsTarget?.close();
    await killAllStarted();
  });

  it('adds, lists and removes clients over SSH; the issued link works meanwhile', async () => {
    const uuid = randomUUID();
    await driver.addClient({ email: 'ivan', uuid, flow: 'xtls-rprx-vision' });
    await driver.addClient({ email: 'ivan', uuid }); // idempotent
    assert.deepEqual(await driver.listClients(), [{ email: 'ivan', uuid }]);
    assert.deepEqual((await httpAgent.call('GET', '/clients')).json.clients, [
      { email: 'ivan', uuid, flow: 'xtls-rprx-vision' },
    ]);

    const client = await startXrayClient(xray.linkFor(uuid));
    try {
      const res = await httpGetViaSocks(client.socksPort, web.url('/hello'));
      assert.equal(res.status, 200);
      const health = await driver.health();
      assert.equal(health.ok, true);
      assert.equal(health.users, 1);
      assert.match(health.xrayVersion ?? '', /^\d+\.\d+\.\d+/);
      assert.ok(Array.isArray(await driver.stats()));

      await driver.removeClient('ivan');
      await driver.removeClient('ivan'); // idempotent
      assert.deepEqual(await driver.listClients(), []);
      await assert.rejects(httpGetViaSocks(client.socksPort, web.url('/hello'), { timeoutMs: 3_000 }));
    } finally {
      await client.stop();
    }
  });

  it('reconnects after the SSH connection drops', async () => {
    await driver.listClients(); // connection established and reused
    sshd.dropConnections();
    await driver.addClient({ email: 'judy', uuid: randomUUID() });
    assert.deepEqual(
      (await driver.listClients()).map((c) => c.email),
      ['judy'],
    );
    await driver.removeClient('judy');
  });

  it('reports bad input from the CLI as a permanent NodeRejectedError', async () => {
    await assert.rejects(
      driver.addClient({ email: "x'; touch /tmp/pwned; '", uuid: randomUUID() }),
      NodeRejectedError,
    );
    await assert.rejects(driver.addClient({ email: 'ok', uuid: 'nope' }), NodeRejectedError);
  });

  it('accepts a SHA256 fingerprint pin', async () => {
    const byFingerprint = node(sshd.hostKeyFingerprint);
    try {
      assert.equal((await byFingerprint.health()).ok, true);
    } finally {
      await byFingerprint.close();
    }
  });

  it('refuses a server whose host key is not the pinned one', async () => {
    for (const pin of [randomHostKeyLine(), 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU']) {
      const wrong = node(pin);
      try {
        await assert.rejects(wrong.listClients(), (e: Error) => {
          assert.ok(e instanceof HostKeyMismatchError, `got ${e}`);
          assert.match(e.message, new RegExp(sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')));
          return true;
        });
      } finally {
        await wrong.close();
      }
    }
  });
});
