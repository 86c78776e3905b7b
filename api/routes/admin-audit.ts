import { z } from 'zod';
import type { AdminActionRow } from '../../infra/db/rows';
import { iso, sql } from '../db';
import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';
import { blankIsAbsent } from '../schemas';

export const auditEntry = z.object({
  id: z.number().int(),
  admin: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  params: z.record(z.unknown()),
  result: z.enum(['ok', 'refused', 'failed']),
  detail: z.string().nullable(),
  created_at: z.string(),
});

/** `GET /api/v1/admin/audit`: the admin_actions trail, newest first, filtered and paged by id. */
export function adminAuditRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/audit',
      summary: 'Who did what to which target: every admin write, newest first (page with `before_id`)',
      tag: 'admin',
      auth: 'admin',
      query: z.object({
        admin: blankIsAbsent(z.string().max(128).optional()),
        action: blankIsAbsent(z.string().max(64).optional()),
        target: blankIsAbsent(z.string().max(128).optional()),
        before_id: blankIsAbsent(z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional()),
        limit: blankIsAbsent(z.coerce.number().int().min(1).max(500).default(100)),
      }),
      responses: {
        200: {
          description: 'Audit rows; `next_before_id` continues the listing (null at the end)',
          schema: z.object({ entries: z.array(auditEntry), next_before_id: z.number().int().nullable() }),
        },
      },
    },
    async ({ query }, _req, res) => {
      const rows = await sql<AdminActionRow>(
        deps.orm,
        `select * from admin_actions
          where (?::text is null or admin = ?) and (?::text is null or action = ?)
            and (?::text is null or target = ?) and (?::bigint is null or id < ?)
          order by id desc limit ?`,
        [
          query.admin ?? null,
          query.admin ?? null,
          query.action ?? null,
          query.action ?? null,
          query.target ?? null,
          query.target ?? null,
          query.before_id ?? null,
          query.before_id ?? null,
          query.limit,
        ],
      );
      const entries = rows.map(auditView);
      res.json({
        entries,
        next_before_id: entries.length === query.limit ? entries[entries.length - 1].id : null,
      });
    },
  );
}

export const auditView = (r: AdminActionRow): z.infer<typeof auditEntry> => ({
  id: Number(r.id),
  admin: r.admin,
  action: r.action,
  target: r.target,
  params: r.params ?? {},
  result: r.result,
  detail: r.detail,
  created_at: iso(r.created_at) ?? '',
});
