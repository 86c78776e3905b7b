import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { newDataDir, spawnAgent } from '../../support/agent';
import {
  type Closeable,
  killAllStarted,
  makeSelfSignedCert,
  startTlsTarget,
  startXrayServer,
  waitFor,
  type XrayServer,
} from '../../support/xray';

function httpsJson(url: string, ca: string, token: string, method = 'GET', body?: unknown) {
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the JSON body field by field
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = https.request(url, { method, ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.setHeader('content-type', 'application/json');
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

// `npm run agent` as a node operator runs it without systemd: HTTPS API, Xray spawned and supervised.
describe('node agent process: TLS and AGENT_SPAWN_XRAY', function () {
  this.timeout(60_000);
  let tlsTarget: Closeable;
  let xray: XrayServer;

  before(async () => {
    tlsTarget = await startTlsTarget();
    xray = await startXrayServer({ targetPort: tlsTarget.port });
    await xray.kill('SIGTERM'); // keep its config and ports; the agent will run Xray itself
  });

  after(async () => {
    await xray?.stop();
    await tlsTarget?.close();
    await killAllStarted();
  });

  it('serves HTTPS, runs Xray, and stops it on SIGTERM', async () => {
    const dataDir = newDataDir();
    const { cert, key } = makeSelfSignedCert('agent.test');
    const [certFile, keyFile] = [path.join(dataDir, 'cert.pem'), path.join(dataDir, 'key.pem')];
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key);
    const agent = await spawnAgent(xray, dataDir, {
      AGENT_TLS_CERT: certFile,
      AGENT_TLS_KEY: keyFile,
      AGENT_SPAWN_XRAY: '1',
      XRAY_CONFIG: xray.configPath,
    });
    const url = agent.url.replace('http:', 'https:');
    try {
      await assert.rejects(fetch(`${url}/health`), 'the agent speaks TLS only');
      const health = await waitFor('spawned Xray', async () => {
        const h = await httpsJson(`${url}/health`, cert, agent.token);
        return h.status === 200 && h.json;
      });
      assert.equal(health.xray_reachable, true);
      const put = await httpsJson(`${url}/clients/leo`, cert, agent.token, 'PUT', { uuid: randomUUID() });
      assert.equal(put.status, 201);
      assert.equal((await httpsJson(`${url}/health`, cert, agent.token)).json.xray_users, 1);
    } finally {
      await agent.stop();
    }
    assert.equal(agent.proc.proc.exitCode, 0, 'clean shutdown');
    // Its Xray is gone with it, so our own Xray can take the ports back.
    await xray.start();
  });
});
