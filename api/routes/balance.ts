import { z } from 'zod';
import { BALANCE_CURRENCY } from '../balance-topup';
import { sql, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParams } from '../schemas';

/** How many of the latest ledger entries the balance answer carries (the bot shows them). */
const LATEST_ENTRIES = 20;

const balanceView = z.object({
  balance: z.string().describe('decimal string, never negative'),
  currency: z.string(),
  entries: z
    .array(
      z.object({
        amount: z.string().describe('signed: "+" a credit, "-" a debit'),
        reason: z.enum(['topup', 'purchase', 'refund', 'cancel_refund', 'admin_refund', 'adjustment']),
        reference: z.string().describe('the payment or refund the entry belongs to'),
        created_at: z.string(),
      }),
    )
    .describe(`the latest ${LATEST_ENTRIES} ledger entries, newest first`),
  topup_star_rate: z
    .string()
    .nullable()
    .describe(
      'what one Telegram Star buys on the balance (TOPUP_STAR_RATE); null: top-ups by Stars are off, by card only',
    ),
});

export function balanceRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/users/:telegram_id/balance',
      summary: "The user's balance and its latest ledger entries",
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: { description: 'Balance (0.00 before the first top-up)', schema: balanceView },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      const row = await sqlOne(deps.orm, `select balance, currency from balances where user_id = ?`, [
        user.id,
      ]);
      const entries = await sql(
        deps.orm,
        `select amount, reason, reference, created_at from balance_entries where user_id = ? order by id desc limit ?`,
        [user.id, LATEST_ENTRIES],
      );
      res.json({
        balance: row ? String(row.balance) : '0.00',
        currency: row?.currency ?? BALANCE_CURRENCY,
        entries: entries.map((e) => ({
          amount: String(e.amount),
          reason: e.reason,
          reference: e.reference,
          created_at: new Date(e.created_at).toISOString(),
        })),
        topup_star_rate: deps.config.TOPUP_STAR_RATE > 0 ? String(deps.config.TOPUP_STAR_RATE) : null,
      });
    },
  );
}
