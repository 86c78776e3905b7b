import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
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

// The production server config must not let VPN users reach the node's own loopback services
// (the unauthenticated Xray API, the agent). Same user, same link shape: only the block rule differs.
describe('Xray server config', function () {
  this.timeout(60_000);
  let tlsTarget: Closeable;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  const servers: XrayServer[] = [];
  const clients: XrayClient[] = [];

  before(async () => {
    tlsTarget = await startTlsTarget();
    web = await startHttpTarget();
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    await web?.close();
    await tlsTarget?.close();
    await killAllStarted();
  });

  async function clientOf(allowPrivateDestinations: boolean): Promise<XrayClient> {
    const uuid = randomUUID();
    const server = await startXrayServer({
      targetPort: tlsTarget.port,
      clients: [{ email: 'static', uuid }],
      allowPrivateDestinations,
    });
    servers.push(server);
    const client = await startXrayClient(server.linkFor(uuid));
    clients.push(client);
    return client;
  }

  it('serves users baked into the file', async () => {
    const client = await clientOf(true);
    assert.equal((await httpGetViaSocks(client.socksPort, web.url('/hello'))).status, 200);
  });

  it('blocks loopback and private destinations by default, by IP and by name', async () => {
    const client = await clientOf(false);
    await assert.rejects(httpGetViaSocks(client.socksPort, web.url('/hello'), { timeoutMs: 3_000 }));
    const byName = `http://localhost:${web.port}/hello`;
    await assert.rejects(httpGetViaSocks(client.socksPort, byName, { timeoutMs: 3_000 }));
  });
});
