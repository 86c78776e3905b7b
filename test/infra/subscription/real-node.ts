import { randomUUID } from 'node:crypto';
import { XrayApi } from '../../../infra/agent/xray-api';
import type { SubscriptionNode } from '../../../infra/subscription/types';
import {
  type Closeable,
  startHttpTarget,
  startTlsTarget,
  startXrayServer,
  type XrayServer,
} from '../../support/xray';

/**
 * A real VLESS + Reality node on loopback with one user baked in, and a web server behind it.
 * Clients are sent to `webUrl` by NAME ("localhost"): the profiles route private IPs direct, so an IP
 * target would bypass the node; a name goes through the tunnel and the node resolves it.
 */
export interface RealNode {
  node: SubscriptionNode;
  webUrl(path: string): string;
  /** Bytes the node counted for our user (uplink + downlink): proof traffic went through it. */
  userTraffic(): Promise<number>;
  stop(): Promise<void>;
}

const EMAIL = 'sub-test';

export async function startRealNode(): Promise<RealNode> {
  const tls: Closeable = await startTlsTarget();
  const web = await startHttpTarget();
  const uuid = randomUUID();
  const xray: XrayServer = await startXrayServer({ targetPort: tls.port, clients: [{ email: EMAIL, uuid }] });
  const api = new XrayApi(xray.apiAddress);
  return {
    node: {
      name: 'Loopback 🇳🇱 node',
      host: xray.host,
      port: xray.port,
      uuid,
      flow: 'xtls-rprx-vision',
      serverName: xray.serverName,
      publicKey: xray.publicKey,
      shortId: xray.shortId,
      fingerprint: 'chrome',
    },
    webUrl: (p) => web.url(p).replace('127.0.0.1', 'localhost'),
    async userTraffic() {
      const all = await api.userTraffic(false);
      const mine = all.find((u) => u.email === EMAIL);
      return mine ? mine.uplink + mine.downlink : 0;
    },
    async stop() {
      await xray.stop();
      await web.close();
      await tls.close();
    },
  };
}
