import { z } from 'zod';
import { agentUrlProblem, normalizeCertFingerprint } from '../../infra/nodes/agent-url';
import { nodeSecretsFromEnv } from '../../infra/nodes/secrets';
import { ensureReconcile } from '../../infra/nodes/reconcile-start';
import { isForeignKeyViolation, isUniqueViolation, type Row, sql, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, invalidField, notFound } from '../errors';
import { type NodeInput, nodeColumns, nodeFields, nodePatch, nodeView, toNodeView } from '../node-view';
import type { RouteTable } from '../route-table';
import { errorBody, nodeIdParams } from '../schemas';

const NODE_SELECT = `select n.*, (select count(*) from subscriptions s where s.node_id = n.id and s.status in ('active', 'revoking'))::int as active_subscriptions from vpn_nodes n`;

/** The driver decides which connection settings must be present (after a PATCH: in the merged node). */
function checkDriver(n: {
  driver?: string;
  agent_url?: unknown;
  agent_token?: unknown;
  ssh?: unknown;
}): void {
  if (n.driver === 'agent' && !n.agent_url)
    throw invalidField('agent_url', 'required when driver is "agent"');
  if (n.driver === 'agent' && !n.agent_token)
    throw invalidField('agent_token', 'required when driver is "agent"');
  if (n.driver === 'ssh' && !n.ssh) throw invalidField('ssh', 'required when driver is "ssh"');
}

/**
 * Where the orchestrator may send its bearer token: https, or http to loopback only, and a valid pin
 * that only makes sense over https. Checked on the node as it will be stored.
 */
function checkAgentEndpoint(n: { agent_url?: unknown; agent_cert_sha256?: unknown }): void {
  const url = typeof n.agent_url === 'string' ? n.agent_url : null;
  const problem = url ? agentUrlProblem(url) : null;
  if (problem) throw invalidField('agent_url', problem);
  if (typeof n.agent_cert_sha256 !== 'string' || !n.agent_cert_sha256) return;
  if (!normalizeCertFingerprint(n.agent_cert_sha256))
    throw invalidField('agent_cert_sha256', 'must be a SHA-256 fingerprint: 32 hex bytes, e.g. AB:CD:…');
  if (url && new URL(url).protocol !== 'https:')
    throw invalidField('agent_cert_sha256', 'a pinned certificate needs an https:// agent_url');
}

/** Does this change touch where or how the agent is reached? (then the stored endpoint is re-checked) */
const touchesAgentEndpoint = (b: NodeInput) =>
  b.agent_url !== undefined || b.agent_cert_sha256 !== undefined || b.driver !== undefined;

async function save(deps: ApiDeps, query: string, params: unknown[]): Promise<Row> {
  try {
    const [row] = await sql(deps.orm, query, params);
    if (!row) throw notFound('node_not_found');
    const saved = await sqlOne(deps.orm, `${NODE_SELECT} where n.id = ?`, [row.id]);
    if (!saved) throw notFound('node_not_found'); // deleted by a concurrent request meanwhile
    return saved;
  } catch (err) {
    if (isUniqueViolation(err)) throw new HttpError(409, 'name_taken', 'another node has this name', 'name');
    throw err;
  }
}

export function adminNodeRoutes(routes: RouteTable, deps: ApiDeps): void {
  const common = { tag: 'admin', auth: 'admin' as const };
  const notFoundDoc = { description: 'Unknown node', schema: errorBody };
  const invalidDoc = {
    description:
      'A field is invalid, named in `field` (e.g. `agent_url` with http:// to a host that is not loopback)',
    schema: errorBody,
  };
  // Agent tokens and SSH private keys are sealed before they reach PostgreSQL.
  const secrets = nodeSecretsFromEnv(deps.config);
  if (!secrets.encrypting && deps.config.NODE_ENV === 'production')
    deps.logger.warn('NODE_SECRETS_KEY is not set: node agent tokens and SSH keys are stored in plaintext');

  routes.add(
    {
      ...common,
      method: 'get',
      path: '/api/v1/admin/nodes',
      summary: 'All VPN nodes (no secrets)',
      responses: { 200: { description: 'Nodes', schema: z.object({ nodes: z.array(nodeView) }) } },
    },
    async (_input, _req, res) => {
      const rows = await sql(deps.orm, `${NODE_SELECT} order by n.created_at, n.name`);
      res.json({ nodes: rows.map(toNodeView) });
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/nodes',
      summary: 'Register a VPN node',
      body: nodeFields,
      responses: {
        201: { description: 'Created', schema: nodeView },
        409: { description: 'Name taken', schema: errorBody },
        422: invalidDoc,
      },
    },
    async ({ body }, _req, res) => {
      checkDriver(body);
      checkAgentEndpoint(body);
      const cols = nodeColumns(body, secrets);
      const names = Object.keys(cols);
      const placeholders = names.map((n) => (n === 'ssh' ? '?::jsonb' : '?')).join(', ');
      const row = await save(
        deps,
        `insert into vpn_nodes (${names.join(', ')}) values (${placeholders}) returning id`,
        Object.values(cols),
      );
      await keepReconciled(deps, row.id);
      res.status(201).json(toNodeView(row));
    },
  );

  routes.add(
    {
      ...common,
      method: 'patch',
      path: '/api/v1/admin/nodes/:id',
      summary: 'Change a node; status "disabled" takes it out of node selection',
      params: nodeIdParams,
      body: nodePatch,
      responses: {
        200: { description: 'Updated', schema: nodeView },
        404: notFoundDoc,
        409: { description: 'Name taken', schema: errorBody },
        422: invalidDoc,
      },
    },
    async ({ params, body }, _req, res) => {
      const current = await sqlOne(deps.orm, `select * from vpn_nodes where id = ?`, [params.id]);
      if (!current) throw notFound('node_not_found');
      const merged = { ...current, ...stripUndefined(body) };
      checkDriver(merged);
      if (touchesAgentEndpoint(body)) checkAgentEndpoint(merged);
      const cols = nodeColumns(body, secrets);
      const names = Object.keys(cols);
      if (!names.length) {
        // Re-read: a DELETE may have removed the node since the first read (404, not a crash on undefined).
        const now = await sqlOne(deps.orm, `${NODE_SELECT} where n.id = ?`, [params.id]);
        if (!now) throw notFound('node_not_found');
        return void res.json(toNodeView(now));
      }
      const sets = names.map((n) => (n === 'ssh' ? `${n} = ?::jsonb` : `${n} = ?`)).join(', ');
      const row = await save(deps, `update vpn_nodes set ${sets} where id = ? returning id`, [
        ...Object.values(cols),
        params.id,
      ]);
      if (row.status !== 'disabled') await keepReconciled(deps, row.id);
      res.json(toNodeView(row));
    },
  );

  routes.add(
    {
      ...common,
      method: 'delete',
      path: '/api/v1/admin/nodes/:id',
      summary: 'Remove a node; one that served subscriptions in the past is disabled instead (history stays)',
      params: nodeIdParams,
      responses: {
        200: {
          description: 'Deleted, or disabled when past subscriptions reference it',
          schema: z.object({
            id: z.string().uuid(),
            deleted: z.boolean(),
            status: z.enum(['deleted', 'disabled']),
          }),
        },
        404: notFoundDoc,
        409: {
          description: 'The node still carries active subscriptions: migrate them first',
          schema: errorBody,
        },
      },
    },
    async ({ params }, _req, res) => {
      const node = await sqlOne(deps.orm, `${NODE_SELECT} where n.id = ?`, [params.id]);
      if (!node) throw notFound('node_not_found');
      if (node.active_subscriptions > 0) {
        throw new HttpError(
          409,
          'node_in_use',
          `${node.active_subscriptions} active subscriptions use this node`,
        );
      }
      try {
        await sql(deps.orm, `delete from vpn_nodes where id = ?`, [params.id]);
        res.json({ id: params.id, deleted: true, status: 'deleted' });
      } catch (err) {
        if (!isForeignKeyViolation(err)) throw err;
        await sql(deps.orm, `update vpn_nodes set status = 'disabled' where id = ?`, [params.id]);
        res.json({ id: params.id, deleted: false, status: 'disabled' });
      }
    },
  );
}

/** A new or re-enabled node gets its reconcile workflow; Temporal being down must not fail the write. */
async function keepReconciled(deps: ApiDeps, nodeId: string): Promise<void> {
  await ensureReconcile(deps.temporal, {
    nodeId,
    taskQueue: deps.config.PURCHASES_TASK_QUEUE,
    intervalMs: deps.config.NODE_HEALTH_INTERVAL,
  }).catch((err) => deps.logger.warn({ err, nodeId }, 'node reconcile workflow not started'));
}

const stripUndefined = (b: NodeInput) =>
  Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
