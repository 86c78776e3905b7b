import { randomBytes, randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createNodeActivities } from '../../activities/nodes';
import { type LiveNode, startLiveNode } from '../activities/node-fixture';
import { temporalServer } from '../support/services';
import { workflowBundle } from '../support/system';
import {
  type Closeable,
  httpGetViaSocks,
  startHttpTarget,
  startTlsTarget,
  startXrayClient,
  type XrayClient,
} from '../support/xray';

/**
 * Real nodes (Xray + agent each), registered in vpn_nodes exactly as the product connects to them, a
 * worker on a private queue running the real workflow bundle with the real node activities, and a web
 * site to fetch through real Xray clients.
 */
export class DataPlane {
  readonly queue = `purchases-dp-${randomBytes(4).toString('hex')}`;
  nodes: Array<LiveNode & { id: string }> = [];
  web!: Awaited<ReturnType<typeof startHttpTarget>>;
  private target!: Closeable;
  private worker?: Worker;
  private running?: Promise<void>;
  private connection?: NativeConnection;
  client!: Client;
  private clients: XrayClient[] = [];
  private extra: LiveNode[] = [];

  constructor(readonly orm: MikroORM) {}

  async start(
    nodeCount: number,
    location = (i: number) => ['nl', 'de', 'fi'][i % 3],
    country = (_i: number) => 'NL',
  ): Promise<this> {
    this.target = await startTlsTarget();
    this.web = await startHttpTarget();
    const live = await Promise.all(Array.from({ length: nodeCount }, () => startLiveNode(this.target)));
    for (const [i, n] of live.entries()) {
      const [row] = await this.orm.em.getConnection().execute(
        `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token,
           reality_public_key, reality_short_id, reality_server_name)
         values (?, '127.0.0.1', ?, ?, ?, 100, 'agent', ?, ?, ?, ?, ?) returning id`,
        [
          `node-${i}-${randomBytes(2).toString('hex')}`,
          n.xray.port,
          location(i),
          country(i),
          n.agent.url,
          n.agent.token,
          n.xray.publicKey,
          n.xray.shortId,
          n.xray.serverName,
        ],
      );
      this.nodes.push(Object.assign(n, { id: String(row.id) }));
    }
    const env = await temporalServer();
    this.client = env.client;
    this.connection = await NativeConnection.connect({ address: env.address });
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: 'default',
      taskQueue: this.queue,
      workflowBundle: { codePath: await workflowBundle() },
      activities: createNodeActivities({ orm: this.orm }),
    });
    this.running = this.worker.run();
    return this;
  }

  /** A user with an active access on `node` (its own key put on the node, like a purchase does). */
  async activeAccess(
    node: { id: string; agent: LiveNode['agent'] },
    tariff: { deviceLimit?: number | null; locations?: string[]; telegramId?: number } = {},
  ): Promise<{
    telegramId: number;
    subscriptionId: string;
    clientUuid: string;
    tariffId: number;
    token: string;
  }> {
    const conn = this.orm.em.getConnection();
    // A test file with its own telegram-id range passes one of its ids.
    const telegramId = tariff.telegramId ?? 700_000_000 + Math.floor(Math.random() * 100_000_000);
    const [user] = await conn.execute(
      `insert into users (telegram_id, language) values (?, 'en') returning id`,
      [telegramId],
    );
    const [t] = await conn.execute(
      `insert into tariffs (slug, name, price, duration_seconds, device_limit, location, locations)
       values (?, 'Plan', 199, 2592000, ?, ?, string_to_array(?, ',')) returning id`,
      [
        `t-${randomBytes(3).toString('hex')}`,
        tariff.deviceLimit ?? null,
        tariff.locations?.[0] ?? null,
        (tariff.locations ?? []).join(','),
      ],
    );
    const subscriptionId = randomUUID();
    const clientUuid = randomUUID();
    const token = randomBytes(24).toString('base64url');
    await conn.execute(
      `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token, starts_at, expires_at)
       values (?, ?, ?, ?, 'active', ?, ?, ?, now(), now() + interval '30 days')`,
      [
        subscriptionId,
        user.id,
        t.id,
        node.id,
        clientUuid,
        subscriptionId,
        token, // the token this returns is the one stored (a fresh one here made /sub answer 404)
      ],
    );
    const put = await node.agent.call('PUT', `/clients/${subscriptionId}`, { uuid: clientUuid });
    if (put.status >= 300) throw new Error(`agent PUT ${put.status}`);
    return { telegramId, subscriptionId, clientUuid, tariffId: Number(t.id), token };
  }

  /** One more real node (Xray + agent) on the same web target, not yet registered anywhere. */
  async extraNode(): Promise<LiveNode> {
    const n = await startLiveNode(this.target);
    this.extra.push(n);
    return n;
  }

  /** Does this vless:// link carry traffic, through a real Xray client? */
  async works(link: string): Promise<boolean> {
    const client = await startXrayClient(link);
    this.clients.push(client);
    try {
      const res = await httpGetViaSocks(client.socksPort, this.web.url('/hello'), { timeoutMs: 4_000 });
      return res.status === 200;
    } catch {
      return false;
    } finally {
      await client.stop();
    }
  }

  async stop(): Promise<void> {
    this.worker?.shutdown();
    await this.running?.catch(() => undefined);
    await this.connection?.close();
    await Promise.all(this.clients.map((c) => c.stop().catch(() => undefined)));
    await Promise.all([...this.nodes, ...this.extra].map((n) => n.stop().catch(() => undefined)));
    await this.web?.close();
    await this.target?.close();
  }
}
