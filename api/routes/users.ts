import { z } from 'zod';
import { langFor } from '../../infra/i18n';
import { sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { referralCodeOf, startPayload } from '../referrals';
import type { RouteTable } from '../route-table';
import { errorBody, telegramId } from '../schemas';

const name = (max: number) => z.string().max(max).nullish();
const registerBody = z.object({
  telegram_id: telegramId,
  username: name(64),
  first_name: name(128),
  last_name: name(128),
  language_code: z.string().max(35).nullish(),
  referral: name(64),
  start_payload: startPayload
    .nullish()
    .describe('the /start parameter (ref_<code>, gift_<code>); kept at first registration only'),
});
const registered = z.object({ user_id: z.string().uuid(), telegram_id: z.number().int() });

export function userRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/users/register',
      summary: 'Register a Telegram user, or refresh the names and language of a known one',
      tag: 'bot',
      auth: 'api',
      body: registerBody,
      responses: {
        201: { description: 'New user', schema: registered },
        200: { description: 'Known user, profile refreshed', schema: registered },
        422: { description: 'A field is invalid', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      // Names follow Telegram; the language only when sent; the first referral is kept for good.
      const row = await sqlOne(
        deps.orm,
        `insert into users (telegram_id, username, first_name, last_name, language, referral, start_payload, referred_by)
         values (?, ?, ?, ?, coalesce(?, 'ru'), ?, ?, (select id from users where referral_code = ?))
         on conflict (telegram_id) do update set
           username = excluded.username, first_name = excluded.first_name, last_name = excluded.last_name,
           language = coalesce(?, users.language), referral = coalesce(users.referral, excluded.referral),
           updated_at = now()
         returning id, telegram_id, (xmax = 0) as inserted`,
        [
          body.telegram_id,
          body.username ?? null,
          body.first_name ?? null,
          body.last_name ?? null,
          body.language_code ? langFor(body.language_code) : null,
          body.referral ?? null,
          // Attribution at the first /start only: a known user's payload and referrer never change.
          body.start_payload || null,
          referralCodeOf(body.start_payload),
          body.language_code ? langFor(body.language_code) : null,
        ],
      );
      if (!row) throw new Error('user upsert returned nothing');
      res.status(row.inserted ? 201 : 200).json({ user_id: row.id, telegram_id: Number(row.telegram_id) });
    },
  );
}
