import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AdminGrantResult } from '../../activities/admin';
import type { AdminAccessInput } from '../../workflows/admin-actions';
import {
  ADMIN_ACCESS_WORKFLOW_TYPE,
  ADMIN_RESEND_KEY_WORKFLOW_TYPE,
  ADMIN_REVOKE_WORKFLOW_TYPE,
} from '../../workflows/admin-messages';
import { adminIdentity } from '../audit';
import { audited, runAdminWorkflow } from '../admin-workflows';
import { sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, nodeIdParams, telegramIdParams } from '../schemas';

const grantAnswer = z.object({
  kind: z.enum(['activated', 'extended']),
  subscription_id: z.string().uuid(),
  expires_at: z.string(),
});
const revokeAnswer = z.object({
  revoked: z.boolean(),
  subscription_id: z.string().uuid().nullable(),
  node_id: z.string().uuid().nullable(),
});
const blockAnswer = z.object({
  telegram_id: z.number().int(),
  blocked: z.boolean(),
  revoked: revokeAnswer.nullable(),
});
const nodeStatusAnswer = z.object({ id: z.string().uuid(), status: z.enum(['up', 'down', 'disabled']) });

const days = z.number().int().min(1).max(3650);
const failedDoc = {
  description: '`action_failed`: the node or a worker did not complete it; the message names the workflow',
  schema: errorBody,
};
const userDoc = { description: 'Unknown user (or tariff)', schema: errorBody };

const grantView = (r: AdminGrantResult) => ({
  kind: r.kind,
  subscription_id: r.subscriptionId,
  expires_at: r.expiresAt,
});

/**
 * The operator's hands (issue 16): users extend / grant / revoke / resend-key / block / unblock, and nodes
 * disable / enable. Every call, including refused and failed ones, leaves an `admin_actions` row.
 */
export function adminActionRoutes(routes: RouteTable, deps: ApiDeps): void {
  const common = { tag: 'admin', auth: 'admin' as const, params: telegramIdParams };
  const target = (telegramId: string) => `user:${telegramId}`;

  const access = (input: Omit<AdminAccessInput, 'grantId'>) =>
    runAdminWorkflow<AdminGrantResult>(deps, ADMIN_ACCESS_WORKFLOW_TYPE, input.action, {
      ...input,
      grantId: randomUUID(),
    });

  const revoke = async (telegramId: string, admin: string) => {
    const done = await runAdminWorkflow<{ subscriptionId: string; nodeId: string } | null>(
      deps,
      ADMIN_REVOKE_WORKFLOW_TYPE,
      'revoke',
      { telegramId, admin },
    );
    return {
      revoked: done !== null,
      subscription_id: done?.subscriptionId ?? null,
      node_id: done?.nodeId ?? null,
    };
  };

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/users/:telegram_id/extend',
      summary: 'Extend the running access by N days (the lifetime workflow moves its timers)',
      body: z.object({ days }),
      responses: {
        200: { description: 'Extended', schema: grantAnswer },
        404: userDoc,
        409: {
          description: `\`no_active_subscription\`; ${failedDoc.description}`,
          schema: errorBody,
        },
      },
    },
    async ({ params, body }, _req, res) => {
      const what = { action: 'user.extend', target: target(params.telegram_id), params: body };
      const result = await audited(deps, res, what, async () => {
        await requireUser(deps.orm, params.telegram_id);
        return access({
          action: 'extend',
          telegramId: params.telegram_id,
          admin: adminIdentity(res),
          days: body.days,
        });
      });
      res.json(grantView(result));
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/users/:telegram_id/grant',
      summary: 'Grant an access of a tariff (its duration, or `days`): extends a running one, else a new key',
      body: z.object({ tariff_id: z.number().int().positive(), days: days.optional() }),
      responses: {
        200: {
          description: 'Granted (the user gets the key or the new end date by message)',
          schema: grantAnswer,
        },
        404: userDoc,
        409: {
          description: `\`no_node_available\`: no healthy node with room for the tariff; ${failedDoc.description}`,
          schema: errorBody,
        },
      },
    },
    async ({ params, body }, _req, res) => {
      const what = { action: 'user.grant', target: target(params.telegram_id), params: body };
      const result = await audited(deps, res, what, async () => {
        await requireUser(deps.orm, params.telegram_id);
        const tariff = await sqlOne(deps.orm, `select id from tariffs where id = ?`, [body.tariff_id]);
        if (!tariff) throw notFound('tariff_not_found');
        return access({
          action: 'grant',
          telegramId: params.telegram_id,
          admin: adminIdentity(res),
          tariffId: body.tariff_id,
          days: body.days,
        });
      });
      res.json(grantView(result));
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/users/:telegram_id/revoke',
      summary: 'Revoke the running access now; answers once the node confirms the client is gone',
      responses: {
        200: { description: '`revoked: false` when no access was running', schema: revokeAnswer },
        404: userDoc,
        409: failedDoc,
      },
    },
    async ({ params }, _req, res) => {
      const what = { action: 'user.revoke', target: target(params.telegram_id) };
      const result = await audited(deps, res, what, async () => {
        await requireUser(deps.orm, params.telegram_id);
        return revoke(params.telegram_id, adminIdentity(res));
      });
      res.json(result);
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/users/:telegram_id/resend-key',
      summary: 'Send the key (link, QR) of the running access again',
      responses: {
        200: {
          description: '`sent`, or `blocked` (the user blocked the bot)',
          schema: z.object({ result: z.enum(['sent', 'skipped', 'blocked']) }),
        },
        404: userDoc,
        409: {
          description: `\`no_active_subscription\`; ${failedDoc.description}`,
          schema: errorBody,
        },
      },
    },
    async ({ params }, _req, res) => {
      const what = { action: 'user.resend_key', target: target(params.telegram_id) };
      const result = await audited(deps, res, what, async () => {
        await requireUser(deps.orm, params.telegram_id);
        const sent = await runAdminWorkflow<string>(deps, ADMIN_RESEND_KEY_WORKFLOW_TYPE, 'resend', {
          telegramId: params.telegram_id,
          resendId: randomUUID(),
        });
        if (sent === 'no_access') {
          throw new HttpError(409, 'no_active_subscription', 'the user has no running access');
        }
        return sent;
      });
      res.json({ result });
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/users/:telegram_id/block',
      summary:
        'Block a user: they cannot buy (403 `user_blocked`); `revoke_access` also ends their access now',
      body: z.object({ revoke_access: z.boolean().default(false), reason: z.string().max(500).optional() }),
      responses: {
        200: { description: 'Blocked', schema: blockAnswer },
        404: userDoc,
        409: failedDoc,
      },
    },
    async ({ params, body }, _req, res) => {
      const what = { action: 'user.block', target: target(params.telegram_id), params: body };
      const result = await audited(deps, res, what, async () => {
        await requireUser(deps.orm, params.telegram_id);
        await sqlOne(
          deps.orm,
          `update users set banned_at = coalesce(banned_at, now()), ban_reason = ?, updated_at = now() where telegram_id = ? returning id`,
          [body.reason ?? null, params.telegram_id],
        );
        const revoked = body.revoke_access ? await revoke(params.telegram_id, adminIdentity(res)) : null;
        return { telegram_id: Number(params.telegram_id), blocked: true, revoked };
      });
      res.json(result);
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/users/:telegram_id/unblock',
      summary: 'Unblock a user: they may buy again',
      responses: { 200: { description: 'Unblocked', schema: blockAnswer }, 404: userDoc },
    },
    async ({ params }, _req, res) => {
      const what = { action: 'user.unblock', target: target(params.telegram_id) };
      const result = await audited(deps, res, what, async () => {
        await requireUser(deps.orm, params.telegram_id);
        await sqlOne(
          deps.orm,
          `update users set banned_at = null, ban_reason = null, updated_at = now() where telegram_id = ? returning id`,
          [params.telegram_id],
        );
        return { telegram_id: Number(params.telegram_id), blocked: false, revoked: null };
      });
      res.json(result);
    },
  );

  for (const [verb, status] of [
    ['disable', 'disabled'],
    ['enable', 'up'],
  ] as const) {
    routes.add(
      {
        tag: 'admin',
        auth: 'admin',
        method: 'post',
        path: `/api/v1/admin/nodes/:id/${verb}`,
        summary:
          verb === 'disable'
            ? 'Take a node out of node selection (its running accesses keep working)'
            : 'Put a disabled node back; the next health round marks it down if it does not answer',
        params: nodeIdParams,
        responses: {
          200: { description: 'The node status now', schema: nodeStatusAnswer },
          404: { description: 'Unknown node', schema: errorBody },
        },
      },
      async ({ params }, _req, res) => {
        const what = { action: `node.${verb}`, target: `node:${params.id}` };
        const row = await audited(deps, res, what, async () => {
          const updated = await sqlOne(
            deps.orm,
            verb === 'disable'
              ? `update vpn_nodes set status = 'disabled' where id = ? returning id, status`
              : `update vpn_nodes set status = case when status = 'disabled' then 'up' else status end,
                   consecutive_failures = case when status = 'disabled' then 0 else consecutive_failures end
                 where id = ? returning id, status`,
            [params.id],
          );
          if (!updated) throw notFound('node_not_found');
          return updated;
        });
        res.json({ id: row.id, status: row.status ?? status });
      },
    );
  }
}
