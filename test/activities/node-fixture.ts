import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Reconciler } from '../../infra/agent/reconciler';
import { createAgentApp } from '../../infra/agent/server';
import { AgentService } from '../../infra/agent/service';
import { AgentStore } from '../../infra/agent/store';
import { XrayApi } from '../../infra/agent/xray-api';
import { newDataDir } from '../support/agent';
import { type Closeable, startXrayServer, type XrayServer } from '../support/xray';

/**
 * The real node agent (HTTP app + Xray reconciler, on a real Xray) that can be stopped and started
 * again on the SAME url and token, with its client list kept on disk: a node going away and coming back,
 * without the orchestrator's record of it changing.
 */
export class RestartableAgent {
  readonly token = randomBytes(24).toString('hex');
  readonly dataDir = newDataDir();
  private port = 0;
  private live?: { server: http.Server; reconciler: Reconciler; api: XrayApi };

  constructor(private readonly xray: XrayServer) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.live !== undefined;
  }

  async start(): Promise<void> {
    if (this.live) return;
    const store = new AgentStore(this.dataDir);
    const api = new XrayApi(this.xray.apiAddress);
    const deps = { store, xray: api, inboundTag: this.xray.inboundTag, xrayBin: this.xray.bin };
    const reconciler = new Reconciler(new AgentService(deps), { intervalMs: 300 });
    const server = http.createServer(createAgentApp({ ...deps, token: this.token }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    reconciler.start();
    this.live = { server, reconciler, api };
  }

  /** Like the agent process dying: the port stops answering (connection refused). */
  async stop(): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    await live.reconciler.stop();
    live.server.closeAllConnections();
    await new Promise((resolve) => live.server.close(resolve));
    live.api.close();
  }

  /** Straight to the agent's HTTP API, bypassing the orchestrator (an operator, or drift). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON body field by field
  async call(method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${this.url}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  async clients(): Promise<{ email: string; uuid: string; flow?: string }[]> {
    const res = await this.call('GET', '/clients');
    if (res.status !== 200) throw new Error(`GET /clients: ${res.status}`);
    return res.json.clients;
  }

  async emails(): Promise<string[]> {
    return (await this.clients()).map((c) => c.email).sort();
  }
}

/** One VPN node on loopback: a real Xray (VLESS + Reality) and its real agent. */
export interface LiveNode {
  xray: XrayServer;
  agent: RestartableAgent;
  stop(): Promise<void>;
}

export async function startLiveNode(target: Closeable): Promise<LiveNode> {
  const xray = await startXrayServer({ targetPort: target.port });
  const agent = new RestartableAgent(xray);
  await agent.start();
  return {
    xray,
    agent,
    stop: async () => {
      await agent.stop();
      await xray.stop();
    },
  };
}

export interface NodeRow {
  name?: string;
  location?: string;
  capacity?: number;
  status?: 'up' | 'down' | 'disabled';
  clientCount?: number;
  agentUrl?: string | null;
  agentToken?: string | null;
  driver?: 'agent' | 'ssh';
  ssh?: unknown;
}

/** A vpn_nodes row as the admin API would store it. */
export async function insertNode(orm: MikroORM, n: NodeRow = {}): Promise<string> {
  const [row] = await orm.em.getConnection().execute(
    `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token, ssh,
       reality_public_key, reality_short_id, reality_server_name, status, client_count)
     values (?, '127.0.0.1', 443, ?, 'NL', ?, ?, ?, ?, ?, 'pk', '', 'example.com', ?, ?) returning id`,
    [
      n.name ?? `node-${randomBytes(3).toString('hex')}`,
      n.location ?? 'nl',
      n.capacity ?? 100,
      n.driver ?? 'agent',
      n.agentUrl === undefined ? 'http://127.0.0.1:9' : n.agentUrl,
      n.agentToken === undefined ? 'x'.repeat(32) : n.agentToken,
      n.ssh === undefined ? null : JSON.stringify(n.ssh),
      n.status ?? 'up',
      n.clientCount ?? 0,
    ],
  );
  return row.id;
}

export async function nodeRow(orm: MikroORM, id: string) {
  const [row] = await orm.em
    .getConnection()
    .execute(
      `select status, client_count, consecutive_failures, last_error, last_health_check from vpn_nodes where id = ?`,
      [id],
    );
  return row as {
    status: string;
    client_count: number;
    consecutive_failures: number;
    last_error: string | null;
    last_health_check: Date | null;
  };
}
