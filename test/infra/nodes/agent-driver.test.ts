import assert from 'node:assert/strict';
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAgentApp } from '../../../infra/agent/server';
import { AgentStore } from '../../../infra/agent/store';
import { XrayApi } from '../../../infra/agent/xray-api';
import {
  createNodeDriver,
  type NodeDriver,
  NodeRejectedError,
  NodeUnreachableError,
} from '../../../infra/nodes';
import { newDataDir, type RunningAgent, startAgent } from '../../support/agent';
import {
  type Closeable,
  freePort,
  killAllStarted,
  makeSelfSignedCert,
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

  /** Listens on loopback; `seen` counts the requests that reached the application (headers included). */
  async function serve(server: http.Server): Promise<{ port: number; close: () => Promise<void> }> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      },
    };
  }

  it('over HTTPS pins the certificate the installer printed; an impostor never sees the token', async () => {
    const real = makeSelfSignedCert('agent.test');
    const impostorCert = makeSelfSignedCert('agent.test');
    const pin = new X509Certificate(real.cert).fingerprint256;
    const token = randomBytes(24).toString('hex');
    const xrayApi = new XrayApi(xray.apiAddress);
    const app = createAgentApp({
      store: new AgentStore(newDataDir()),
      xray: xrayApi,
      inboundTag: xray.inboundTag,
      xrayBin: xray.bin,
      token,
    });
    const agentTls = await serve(https.createServer({ cert: real.cert, key: real.key }, app));
    const seenByImpostor: http.IncomingHttpHeaders[] = [];
    const impostor = await serve(
      https.createServer({ cert: impostorCert.cert, key: impostorCert.key }, (req, res) => {
        seenByImpostor.push(req.headers);
        res.end('{"clients":[]}');
      }),
    );
    const pinned = (port: number, certSha256: string | null) =>
      createNodeDriver({
        id: 'tls',
        driver: 'agent',
        agentUrl: `https://127.0.0.1:${port}`,
        agentToken: token,
        agentCertSha256: certSha256,
      });
    const good = pinned(agentTls.port, pin.toLowerCase().replace(/:/g, '')); // any spelling of the pin
    const fooled = pinned(impostor.port, pin);
    const unpinned = pinned(agentTls.port, null);
    try {
      assert.deepEqual(await good.listClients(), []);
      assert.equal((await good.health()).ok, true);
      await assert.rejects(
        fooled.listClients(),
        (e: Error) => e instanceof NodeRejectedError && e.reason === 'tls pin mismatch' && !e.retryable,
      );
      assert.equal(seenByImpostor.length, 0, 'no request (so no bearer token) went to the wrong certificate');
      // Without a pin, https means the system CAs: a self-signed agent is refused, not trusted blindly.
      await assert.rejects(unpinned.listClients(), (e: Error) =>
        /^tls error/.test((e as NodeUnreachableError).reason),
      );
    } finally {
      await Promise.all([good.close(), fooled.close(), unpinned.close()]);
      await Promise.all([agentTls.close(), impostor.close()]);
      xrayApi.close();
    }
  });

  it('refuses http:// to a host that is not loopback before connecting', () => {
    for (const url of ['http://203.0.113.10:8444', 'http://node.example.com:8444', 'ftp://127.0.0.1']) {
      assert.throws(
        () => createNodeDriver({ id: 'n5', driver: 'agent', agentUrl: url, agentToken: 'x'.repeat(32) }),
        (e: Error) => e instanceof NodeRejectedError && /agent_url must/.test(e.message),
        url,
      );
    }
    for (const url of ['http://127.0.0.2:8444', 'http://[::1]:8444', 'http://localhost:8444']) {
      createNodeDriver({ id: 'n6', driver: 'agent', agentUrl: url, agentToken: 'x'.repeat(32) });
    }
  });

  it('never repeats the remote body, never follows a redirect: the error names the status only', async () => {
    const other = await serve(
      http.createServer((_req, res) => {
        res.end('{"clients":[{"email":"from-another-host","uuid":"x"}]}');
      }),
    );
    const answers: Record<string, (res: http.ServerResponse) => void> = {
      '/clients': (res) => res.writeHead(500).end('SECRET internal page of some other service'),
      '/health': (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>SECRET</html>'),
      '/stats': (res) => res.writeHead(302, { location: `http://127.0.0.1:${other.port}/clients` }).end(),
    };
    const site = await serve(
      http.createServer((req, res) => answers[(req.url ?? '').split('?')[0]]?.(res) ?? res.end()),
    );
    const d = createNodeDriver({
      id: 'n7',
      driver: 'agent',
      agentUrl: `http://127.0.0.1:${site.port}`,
      agentToken: 'x'.repeat(32),
    });
    try {
      const reasons = await Promise.all(
        [d.listClients(), d.health(), d.stats()].map((p) =>
          (p as Promise<unknown>).then(
            () => 'resolved',
            (e: NodeRejectedError) => ({ reason: e.reason, secret: /SECRET|another-host/.test(e.message) }),
          ),
        ),
      );
      assert.deepEqual(reasons, [
        { reason: 'HTTP 500', secret: false },
        { reason: 'non-JSON answer (HTTP 200)', secret: false },
        { reason: 'HTTP 302', secret: false },
      ]);
    } finally {
      await d.close();
      await Promise.all([site.close(), other.close()]);
    }
  });
});
