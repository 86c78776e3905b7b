import { z } from 'zod';
import { isUniqueViolation, type Row, sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError } from '../errors';
import { startFreeAccess } from '../promo/free-access';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramId, telegramIdParams } from '../schemas';
import { trialGrantId, trialWorkflowId } from '../../workflows/trial-messages';

const trialBody = z.object({ telegram_id: telegramId });
const trialCreated = z.object({
  subscription_id: z.string().uuid(),
  end_date: z.string(),
  workflow_id: z.string(),
});

const trialUsed = () =>
  new HttpError(409, 'trial_used', 'this user has had a trial or an access already: one trial per user');

export function trialRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/trials/:telegram_id',
      summary: 'Whether this user may still take the free trial (the bot offers it on /start)',
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: {
          description: 'Availability',
          schema: z.object({ available: z.boolean(), duration_seconds: z.number().int() }),
        },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      const seconds = Math.ceil(deps.config.TRIAL_DURATION / 1000);
      const had = await sqlOne(
        deps.orm,
        `select 1 from subscriptions where user_id = ? union all select 1 from trials where user_id = ? limit 1`,
        [user.id, user.id],
      );
      res.json({ available: seconds > 0 && !had, duration_seconds: seconds });
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/trials',
      summary:
        'The one free trial of a user (TRIAL_DURATION): a key on a node follows by message and through /config',
      tag: 'bot',
      auth: 'api',
      body: trialBody,
      responses: {
        201: { description: 'Trial granted; the key is being provisioned', schema: trialCreated },
        403: { description: '`trials_off`: TRIAL_DURATION is 0', schema: errorBody },
        404: { description: 'Unknown user', schema: errorBody },
        409: {
          description: '`trial_used`: the user had a trial, or an access (paid or free), before',
          schema: errorBody,
        },
        422: { description: 'A field is invalid; the body names it', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      if (deps.config.TRIAL_DURATION <= 0) throw new HttpError(403, 'trials_off', 'trials are turned off');
      const user = await requireUser(deps.orm, body.telegram_id);
      const trial = await claimTrial(deps, user);
      const workflowId = trialWorkflowId(body.telegram_id);
      await startFreeAccess(deps, workflowId, {
        grantId: trial.grant_id,
        reason: 'trial',
        userId: user.id,
        telegramId: body.telegram_id,
        language: user.language,
        durationSeconds: Math.ceil(deps.config.TRIAL_DURATION / 1000),
        extendExisting: false,
        tariffSlug: deps.config.TRIAL_TARIFF,
        nodeWaitLimitMs: deps.config.NODE_WAIT_LIMIT,
        subscriptionId: trial.subscription_id,
      });
      res.status(201).json({
        subscription_id: trial.subscription_id,
        end_date: new Date(trial.ends_at).toISOString(),
        workflow_id: workflowId,
      });
    },
  );
}

/**
 * The database decides "one trial per user, ever": the trials primary key is the user, so of concurrent tries
 * exactly one inserts. A user who had any access before (bought first) is refused too.
 */
async function claimTrial(deps: ApiDeps, user: Row): Promise<Row> {
  const seconds = Math.ceil(deps.config.TRIAL_DURATION / 1000);
  const grantId = trialGrantId(String(user.telegram_id));
  try {
    return await deps.orm.em.fork().transactional(async (em) => {
      const q = (sql: string, params: unknown[] = []) =>
        em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
      const [had] = await q(
        `select 1 from subscriptions where user_id = ? union all select 1 from trials where user_id = ? limit 1`,
        [user.id, user.id],
      );
      if (had) throw trialUsed();
      // A grant that failed before (no node for NODE_WAIT_LIMIT) gave nothing, so it may be tried again.
      await q(
        `insert into free_grants (id, user_id, reason, duration_seconds) values (?, ?, 'trial', ?)
         on conflict (id) do update set outcome = null, applied_at = null, subscription_id = null,
           duration_seconds = excluded.duration_seconds, created_at = now()
         where free_grants.outcome = 'failed'`,
        [grantId, user.id, seconds],
      );
      const [trial] = await q(
        `insert into trials (user_id, telegram_id, subscription_id, grant_id, ends_at)
         values (?, ?, gen_random_uuid(), ?, now() + make_interval(secs => ?)) returning *`,
        [user.id, user.telegram_id, grantId, seconds],
      );
      return trial;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw trialUsed();
    throw err;
  }
}
