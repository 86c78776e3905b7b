import type { MikroORM } from '@mikro-orm/postgresql';
import type { Response } from 'express';
import { sql } from './db';

export type AdminActionResult = 'ok' | 'refused' | 'failed';

export interface AdminAction {
  /** Who: `token:<name>` for an API token, `tg:<telegram id>` for an admin acting through the bot. */
  admin: string;
  /** What, as a stable verb: `user.extend`, `payment.refund`, `node.drain`, `promo.create`, ... */
  action: string;
  /** Which object: `user:<telegram id>`, `payment:<id>`, `node:<id>`, `promo:<code>`. */
  target?: string | null;
  params?: Record<string, unknown>;
  result: AdminActionResult;
  detail?: string | null;
}

/** Appends one row to the audit trail. Call it for every admin write, including refused and failed ones. */
export async function recordAdminAction(orm: MikroORM, action: AdminAction): Promise<void> {
  await sql(
    orm,
    `insert into admin_actions (admin, action, target, params, result, detail) values (?, ?, ?, ?::jsonb, ?, ?)`,
    [
      action.admin,
      action.action,
      action.target ?? null,
      JSON.stringify(action.params ?? {}),
      action.result,
      action.detail ?? null,
    ],
  );
}

/** The admin identity the auth middleware put on this request (see api/middleware/bearer-auth.ts). */
export function adminIdentity(res: Response): string {
  return (res.locals.adminIdentity as string | undefined) ?? 'token:admin';
}
