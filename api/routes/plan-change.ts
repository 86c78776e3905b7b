import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { invalidField } from '../errors';
import { changePlan, changeQuote } from '../plan-change';
import { paymentCreated, requireActiveTariff, requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, tariffIdField, telegramIdParams } from '../schemas';

const changeBody = z
  .object({
    tariff_id: tariffIdField.optional(),
    tariff_slug: z.string().min(1).max(64).optional(),
    provider: z
      .enum(['yookassa', 'balance'], { errorMap: () => ({ message: 'must be "yookassa" or "balance"' }) })
      .default('yookassa')
      .describe(
        'who pays the difference: the card (default) or the balance; Stars are not taken for a change',
      ),
  })
  .superRefine((b, ctx) => {
    if (b.tariff_id === undefined && b.tariff_slug === undefined)
      ctx.addIssue({ code: 'custom', path: ['tariff_id'], message: 'tariff_id or tariff_slug is required' });
  });

const money = z.string().describe('RUB, e.g. "300.01"');
const changeFields = {
  change_id: z.string().uuid(),
  kind: z.enum(['upgrade', 'downgrade']),
  tariff_id: z.number().int().describe('the new tariff'),
  credit: money.describe(
    'the unused value of the current access, linear by remaining time (upgrades; 0 for a downgrade)',
  ),
};
const changeCreated = paymentCreated.extend({
  ...changeFields,
  amount: money.describe('what the user pays: the new price minus the credit (the amount asked at YooKassa)'),
});
const changeDone = z.object({
  ...changeFields,
  status: z
    .enum(['applied', 'applying', 'scheduled', 'canceled'])
    .describe(
      '`applied`: the access has the new tariff now; `applying`: the credit covers it and it is being applied; ' +
        '`scheduled`: a downgrade, applied by the next renewal; `canceled`: the scheduled downgrade was called off',
    ),
  amount: money.describe('"0.00": nothing to pay'),
  currency: z.string(),
  balance_credited: money.describe('what the credit left over after the new price, put on the balance'),
  subscription_id: z.string().uuid(),
  end_date: z
    .string()
    .nullable()
    .describe('the end of the access (after an applied upgrade: now + the new period)'),
  effective_at: z
    .string()
    .nullable()
    .describe('a downgrade: when it takes effect (the current end, at renewal)'),
});
const quoteBody = z.object({
  subscription_id: z.string().uuid(),
  tariff_id: z.number().int().describe('the current tariff'),
  tariff_name: z.string(),
  credit: money,
  currency: z.string(),
  end_date: z.string().nullable(),
  pending: z
    .object({
      change_id: z.string().uuid(),
      kind: z.enum(['upgrade', 'downgrade']),
      status: z.enum(['open', 'scheduled']),
      tariff_id: z.number().int(),
      tariff_name: z.string(),
      amount: money,
      effective_at: z.string().nullable(),
    })
    .nullable()
    .describe('an upgrade waiting for its payment, or a downgrade scheduled for the next renewal'),
  options: z.array(
    z.object({
      tariff_id: z.number().int(),
      slug: z.string(),
      name: z.string(),
      price: money,
      kind: z.enum(['upgrade', 'downgrade']),
      amount: money.describe(
        'an upgrade: the price minus the credit; a downgrade: 0 now, the price at renewal',
      ),
    }),
  ),
});

export function planChangeRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/subscriptions/:telegram_id/change',
      summary:
        "Change the plan of the user's running access: an upgrade credits the unused value and costs the difference; a downgrade waits for the next renewal",
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      body: changeBody,
      responses: {
        201: {
          description:
            'An upgrade to pay: a payment as from /payments/create (purpose `upgrade`, amount = new price − credit). ' +
            'The same request while it is pending returns the same payment. Provider `balance`: `payment_status: "succeeded"`',
          schema: changeCreated,
        },
        200: {
          description:
            'Nothing to pay: an upgrade the credit covers (applied at once, what is left of the credit goes to the balance), ' +
            'a downgrade scheduled for the next renewal (asked again: the same one), or, for the current tariff, a scheduled downgrade called off',
          schema: changeDone,
        },
        403: { description: '`user_blocked`', schema: errorBody },
        404: { description: 'Unknown user or tariff, or `no_active_subscription`', schema: errorBody },
        409: {
          description:
            '`change_pending`: another upgrade of this access awaits its payment; `same_tariff`; ' +
            '`location_mismatch`: a downgrade to another location; `insufficient_balance`',
          schema: errorBody,
        },
        422: { description: 'A field is invalid (a traffic pack, another currency)', schema: errorBody },
        503: { description: 'The payment provider is down', schema: errorBody },
      },
    },
    async ({ params, body }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      const target = await requireActiveTariff(deps.orm, { id: body.tariff_id, slug: body.tariff_slug });
      if (target.kind && target.kind !== 'subscription')
        throw invalidField('tariff_id', 'a traffic pack is bought, not changed to');
      const answer = await changePlan(deps, { user, target, provider: body.provider });
      res.status(answer.status).json(answer.body);
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/subscriptions/:telegram_id/change',
      summary:
        'What a plan change would cost now: the credit, the pending change, and each tariff as a change',
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: { description: 'The quote', schema: quoteBody },
        404: { description: 'Unknown user, or `no_active_subscription`', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      res.json(await changeQuote(deps, user));
    },
  );
}
