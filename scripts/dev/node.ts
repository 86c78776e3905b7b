import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { generateRealityKeys, newShortId } from '../../infra/xray/binary';
import { buildServerConfig } from '../../infra/xray/server-config';
import type { Supervisor } from './children';
import { errorText, step, warn } from './log';
import { tsxCommand } from './paths';
import { listening, preferPort } from './ports';
import { SITE_NAME, startTlsSite } from './site';

export const LOCAL_NODE_NAME = 'local-dev';

interface NodeState {
  privateKey: string;
  publicKey: string;
  shortId: string;
  vlessPort?: number;
  xrayApiPort?: number;
  agentPort?: number;
}

/** Keys are made once; ports are kept while free, so links already handed out keep working. */
async function loadState(dir: string, xrayBin: string): Promise<Required<NodeState>> {
  const file = path.join(dir, 'node.json');
  const saved: NodeState = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as NodeState)
    : { ...(await generateRealityKeys(xrayBin)), shortId: newShortId() };
  const state = {
    ...saved,
    vlessPort: await preferPort(saved.vlessPort),
    xrayApiPort: await preferPort(saved.xrayApiPort),
    agentPort: await preferPort(saved.agentPort),
  };
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return state;
}

/**
 * A VPN node on this machine: a TLS site for Reality to borrow, the node agent running Xray
 * (AGENT_SPAWN_XRAY=1), and a `local-dev` row in vpn_nodes pointing at the agent.
 */
export async function startLocalNode(
  sup: Supervisor,
  opts: { dataDir: string; xrayBin: string; agentToken: string; databaseUrl: string; env: NodeJS.ProcessEnv },
): Promise<{ vlessPort: number; agentUrl: string }> {
  const dir = path.join(opts.dataDir, 'node');
  mkdirSync(dir, { recursive: true });
  const state = await loadState(dir, opts.xrayBin);
  const site = await startTlsSite(dir);
  sup.add('tls-site', site.close);
  const xrayConfig = path.join(dir, 'xray.json');
  const config = buildServerConfig({
    port: state.vlessPort,
    listen: '127.0.0.1',
    apiListen: `127.0.0.1:${state.xrayApiPort}`,
    privateKey: state.privateKey,
    shortIds: [state.shortId],
    serverNames: [SITE_NAME],
    target: `127.0.0.1:${site.port}`,
  });
  writeFileSync(xrayConfig, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  step(`node: starting the agent on 127.0.0.1:${state.agentPort} with Xray on 127.0.0.1:${state.vlessPort}`);
  const agent = sup.spawn('agent', ...tsxCommand('infra/agent/main.ts'), {
    watch: false,
    env: {
      ...opts.env,
      AGENT_PORT: String(state.agentPort),
      AGENT_HOST: '127.0.0.1',
      AGENT_TOKEN: opts.agentToken,
      AGENT_DATA_DIR: path.join(dir, 'agent'),
      AGENT_SPAWN_XRAY: '1',
      XRAY_BIN: opts.xrayBin,
      XRAY_CONFIG: xrayConfig,
      XRAY_API: `127.0.0.1:${state.xrayApiPort}`,
    },
  });
  await listening(agent, state.agentPort, 60_000);
  sup.watch(agent);
  const agentUrl = `http://127.0.0.1:${state.agentPort}`;
  await registerNode(opts.databaseUrl, { ...state, agentUrl, agentToken: opts.agentToken });
  step(`node: "${LOCAL_NODE_NAME}" registered in vpn_nodes (agent ${agentUrl})`);
  return { vlessPort: state.vlessPort, agentUrl };
}

async function registerNode(
  databaseUrl: string,
  n: Required<NodeState> & { agentUrl: string; agentToken: string },
): Promise<void> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(
      `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token,
                              reality_public_key, reality_short_id, reality_server_name)
       values ($1, '127.0.0.1', $2, 'local', 'ZZ', 100, 'agent', $3, $4, $5, $6, $7)
       on conflict (name) do update set host = excluded.host, port = excluded.port, driver = excluded.driver,
         agent_url = excluded.agent_url, agent_token = excluded.agent_token,
         reality_public_key = excluded.reality_public_key, reality_short_id = excluded.reality_short_id,
         reality_server_name = excluded.reality_server_name`,
      [LOCAL_NODE_NAME, n.vlessPort, n.agentUrl, n.agentToken, n.publicKey, n.shortId, SITE_NAME],
    );
  } finally {
    await db.end();
  }
}

/**
 * The local node in the background: Xray may first have to be built with Go (minutes), and the rest of
 * the system does not wait for it. Without Xray, purchases wait for a node (NODE_WAIT_LIMIT).
 */
export function localNodeInBackground(
  sup: Supervisor,
  xray: Promise<{ bin: string } | { error: string }>,
  opts: { dataDir: string; agentToken: string; databaseUrl: string; env: NodeJS.ProcessEnv },
): { status(): string; done: Promise<void> } {
  let status = 'being prepared (Xray is being built)';
  const done = xray.then(async (x) => {
    if ('error' in x) {
      status = `Xray not available: ${x.error}; purchases will wait for a node`;
      return step(status);
    }
    try {
      const n = await startLocalNode(sup, { ...opts, xrayBin: x.bin });
      status = `"${LOCAL_NODE_NAME}", VLESS+Reality on 127.0.0.1:${n.vlessPort}, agent ${n.agentUrl}`;
    } catch (err) {
      if (sup.stopping) return;
      status = `not started (${errorText(err)}); purchases will wait for a node`;
      warn(`node: ${status}`);
    }
  });
  return { status: () => status, done };
}
