import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { z } from 'zod';
import {
  type BroadcastProgress,
  type BroadcastState,
  broadcastProgressQuery,
  broadcastWorkflowId,
  cancelBroadcastSignal,
  pauseBroadcastSignal,
  resumeBroadcastSignal,
  BROADCAST_WORKFLOW_TYPE,
} from '../../workflows/broadcast-messages';
import { broadcastSummary } from '../../workflows/summaries';
import { audited } from '../admin-workflows';
import { adminIdentity } from '../audit';
import { audienceSchema, audienceWhere } from '../broadcast-audience';
import { sql, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, invalidField, notFound } from '../errors';
import type { RouteTable } from '../route-table';
import { blankIsAbsent, errorBody, uuid } from '../schemas';

const button = z.object({ text: z.string().min(1).max(64), url: z.string().url().max(512) });
const createBody = z.object({
  text: z.string().min(1).max(4096),
  photo_url: z.string().url().max(1024).optional(),
  buttons: z.array(z.array(button).min(1).max(8)).max(10).optional(),
  audience: audienceSchema,
  dry_run: z.boolean().default(false),
});
const created = z.object({
  broadcast_id: z.string().uuid().nullable(),
  workflow_id: z.string().nullable(),
  recipients: z.number().int(),
});
const progress = z.object({
  broadcast_id: z.string().uuid(),
  state: z.enum(['running', 'paused', 'canceled', 'completed']),
  total: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  blocked: z.number().int(),
  pending: z.number().int(),
});
const idParams = z.object({ id: uuid('broadcast id') });

/** A query needs a worker; an operator's screen must not hang on one that is down. */
const QUERY_WAIT_MS = 3_000;

export function adminBroadcastRoutes(routes: RouteTable, deps: ApiDeps): void {
  const common = { tag: 'admin', auth: 'admin' as const };

  async function stateOf(id: string): Promise<BroadcastState> {
    const handle = deps.temporal.workflow.getHandle(broadcastWorkflowId(id));
    const described = await handle.describe();
    const status = described.status.name;
    if (status === 'COMPLETED') return ((await handle.result()) as BroadcastProgress).state;
    if (status !== 'RUNNING') return 'canceled';
    const timeout = new Promise<'running'>((r) => setTimeout(() => r('running'), QUERY_WAIT_MS).unref());
    // A query during continue-as-new is refused ("buffered query cleared"): it is still running.
    const asked = handle
      .query(broadcastProgressQuery)
      .then((p) => p.state)
      .catch(() => 'running' as const);
    return Promise.race([asked, timeout]);
  }

  async function progressOf(id: string): Promise<z.infer<typeof progress>> {
    const b = await sqlOne(deps.orm, `select total from broadcasts where id = ?`, [id]);
    if (!b) throw notFound('broadcast_not_found');
    const rows = await sql(
      deps.orm,
      `select status, count(*)::int as n from broadcast_deliveries where broadcast_id = ? group by status`,
      [id],
    );
    const n = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    return {
      broadcast_id: id,
      state: await stateOf(id),
      total: b.total,
      sent: n('sent'),
      failed: n('failed'),
      blocked: n('blocked'),
      pending: n('pending') + n('sending'),
    };
  }

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/broadcasts',
      summary:
        'Create a broadcast (HTML text, optional photo and URL buttons) to an audience; `dry_run` only counts recipients',
      body: createBody,
      responses: {
        200: { description: 'Dry run: the recipient count, nothing sent', schema: created },
        202: { description: 'Started: workflow `broadcast-<id>` sends it', schema: created },
        422: {
          description: 'A field is invalid (e.g. a caption over 1024 characters with a photo)',
          schema: errorBody,
        },
      },
    },
    async ({ body }, _req, res) => {
      if (body.photo_url && body.text.length > 1024)
        throw invalidField('text', 'a photo caption holds at most 1024 characters');
      const { where, params } = audienceWhere(body.audience);
      if (body.dry_run) {
        const row = await sqlOne(deps.orm, `select count(*)::int as n from users u where ${where}`, params);
        return void res.json({ broadcast_id: null, workflow_id: null, recipients: row?.n ?? 0 });
      }
      const id = randomUUID();
      const what = {
        action: 'broadcast.create',
        target: `broadcast:${id}`,
        params: { audience: body.audience, photo: Boolean(body.photo_url), text_length: body.text.length },
      };
      const total = await audited(deps, res, what, async () => {
        const recipients = await deps.orm.em.fork().transactional(async (em) => {
          const q = (query: string, p: unknown[] = []) =>
            em.getConnection().execute(query, p, 'all', em.getTransactionContext());
          await q(
            `insert into broadcasts (id, text, photo_url, buttons, audience, created_by) values (?, ?, ?, ?::jsonb, ?::jsonb, ?)`,
            [
              id,
              body.text,
              body.photo_url ?? null,
              JSON.stringify(body.buttons ?? []),
              JSON.stringify(body.audience),
              adminIdentity(res),
            ],
          );
          // The recipient list is fixed now: one dedupe row each, what the workflow pages through.
          const inserted = await q(
            `insert into broadcast_deliveries (broadcast_id, telegram_id) select ?, u.telegram_id from users u where ${where} returning 1`,
            [id, ...params],
          );
          await q(`update broadcasts set total = ? where id = ?`, [inserted.length, id]);
          return inserted.length;
        });
        const summary = broadcastSummary({
          recipients,
          segment: body.audience.segment,
          by: adminIdentity(res),
        });
        await deps.temporal.workflow.start(BROADCAST_WORKFLOW_TYPE, {
          workflowId: broadcastWorkflowId(id),
          taskQueue: deps.config.PURCHASES_TASK_QUEUE,
          args: [{ broadcastId: id, total: recipients, summary }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          staticSummary: summary,
          staticDetails: body.text.slice(0, 400),
        });
        return recipients;
      });
      res.status(202).json({ broadcast_id: id, workflow_id: broadcastWorkflowId(id), recipients: total });
    },
  );

  routes.add(
    {
      ...common,
      method: 'get',
      path: '/api/v1/admin/broadcasts/:id',
      summary: 'Progress of a broadcast: state and counts (from its delivery rows)',
      params: idParams,
      responses: {
        200: { description: 'Progress', schema: progress },
        404: { description: 'Unknown broadcast', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      res.json(await progressOf(params.id));
    },
  );

  // The operator's list (the bot's "Broadcasts" screen): newest first, each with its progress.
  routes.add(
    {
      ...common,
      method: 'get',
      path: '/api/v1/admin/broadcasts',
      summary: 'Recent broadcasts, newest first, each with its progress and the start of its text',
      query: z.object({ limit: blankIsAbsent(z.coerce.number().int().min(1).max(50).default(10)) }),
      responses: {
        200: {
          description: 'Broadcasts',
          schema: z.object({
            broadcasts: z.array(
              progress.extend({ created_at: z.string(), created_by: z.string(), text: z.string() }),
            ),
          }),
        },
      },
    },
    async ({ query }, _req, res) => {
      const rows = await sql(
        deps.orm,
        `select id, left(text, 120) as text, created_by, created_at from broadcasts order by created_at desc, id limit ?`,
        [query.limit],
      );
      const broadcasts = await Promise.all(
        rows.map(async (r) => ({
          ...(await progressOf(r.id)),
          created_at: new Date(r.created_at).toISOString(),
          created_by: r.created_by,
          text: r.text,
        })),
      );
      res.json({ broadcasts });
    },
  );

  const controls = [
    ['pause', pauseBroadcastSignal, 'Pause: sends in flight finish, no new ones start'],
    ['resume', resumeBroadcastSignal, 'Resume a paused broadcast where it stopped'],
    ['cancel', cancelBroadcastSignal, 'Cancel: nothing more is sent; the counts stay'],
  ] as const;
  for (const [verb, signal, summary] of controls) {
    routes.add(
      {
        ...common,
        method: 'post',
        path: `/api/v1/admin/broadcasts/:id/${verb}`,
        summary,
        params: idParams,
        responses: {
          200: { description: 'Signalled; the state follows within a moment', schema: progress },
          404: { description: 'Unknown broadcast', schema: errorBody },
          409: { description: '`broadcast_finished`: it is completed or canceled', schema: errorBody },
        },
      },
      async ({ params }, _req, res) => {
        const what = { action: `broadcast.${verb}`, target: `broadcast:${params.id}` };
        await audited(deps, res, what, async () => {
          const b = await sqlOne(deps.orm, `select id from broadcasts where id = ?`, [params.id]);
          if (!b) throw notFound('broadcast_not_found');
          const now = await stateOf(params.id);
          if (now === 'completed' || now === 'canceled')
            throw new HttpError(409, 'broadcast_finished', `the broadcast is ${now}`);
          try {
            await deps.temporal.workflow.getHandle(broadcastWorkflowId(params.id)).signal(signal);
          } catch (err) {
            if ((err as Error).name === 'WorkflowNotFoundError')
              throw new HttpError(409, 'broadcast_finished', 'the broadcast is no longer running');
            throw err;
          }
        });
        res.json(await progressOf(params.id));
      },
    );
  }
}
