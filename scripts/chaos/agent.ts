import http from 'node:http';
import { Reconciler } from '../../infra/agent/reconciler';
import { createAgentApp } from '../../infra/agent/server';
import { AgentService } from '../../infra/agent/service';
import { AgentStore } from '../../infra/agent/store';
import { XrayApi } from '../../infra/agent/xray-api';
import type { RunningAgent } from '../../infra/local/agent';
import type { PurchaseSystem } from '../../infra/local/system';

/**
 * Stops the system's node agent (its HTTP port closes; Xray keeps running) and later starts it again
 * on the same port, with the same token and the same durable client list, as a restarted
 * `npm run agent` would be. The node row in the database is untouched.
 */
export async function stopAgent(sys: PurchaseSystem): Promise<() => Promise<void>> {
  const old = sys.agent!;
  const xray = sys.xray!;
  const port = Number(new URL(old.url).port);
  await old.stop();
  return async () => {
    const store = new AgentStore(old.dataDir);
    const api = new XrayApi(xray.apiAddress);
    const deps = { store, xray: api, inboundTag: xray.inboundTag, xrayBin: xray.bin };
    const reconciler = new Reconciler(new AgentService(deps), { intervalMs: 300 });
    const server = http.createServer(createAgentApp({ ...deps, token: old.token }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    reconciler.start();
    const restarted: RunningAgent = {
      url: old.url,
      token: old.token,
      dataDir: old.dataDir,
      call: old.call, // fetch against the same URL and token
      stop: async () => {
        await reconciler.stop();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        api.close();
      },
    };
    sys.agent = restarted;
  };
}
