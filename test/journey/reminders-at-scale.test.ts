import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { subscriptionWorkflowId } from '../../workflows/purchase-messages';
import type { SubscriptionInput } from '../../workflows/subscription';
import { Journey, textOf, until } from '../support/journey';

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return out;
}

// 1,000 subscriptions whose reminders fall due in the same instant. Telegram allows ~30 messages/s per bot
// (the emulator answers 429 above that); the telegram task queue's server-side rate limit (TELEGRAM_RATE_PER_SECOND, 15/s here, set by
// the worker) must spread the burst so that every reminder arrives exactly once and Telegram never says 429.
describe('journey: 1,000 reminders due at once', function () {
  this.timeout(600_000); // liveness bounds, generous for a loaded 2-core box; speed is in `npm run bench`
  const N = 1000;
  // The workers start once the lifetimes exist: creating 1,000 workflows is then quick, and their first
  // workflow tasks (which set the reminder timers) run before the reminders fall due.
  const j = new Journey({ botMode: 'none', workers: false });
  const base = 7_300_000_000 + Math.floor(Math.random() * 100_000) * 10_000;
  const handles: WorkflowHandle[] = [];

  before(() => j.start());
  after(async function () {
    this.timeout(300_000);
    // They would sleep 10 more minutes until their expiry: end them so the shared server stays quiet.
    await pool(handles, 100, (h) => h.terminate('test over').catch(() => undefined));
    await j.stop();
  });

  it("delivers all 1,000, each once, within Telegram's 30/s (a 429 only ever retried after retry_after)", async () => {
    const conn = j.sys.orm.em.getConnection();
    const [tariff] = await conn.execute(`select id from tariffs order by id limit 1`);
    await conn.execute(
      `insert into users (telegram_id, language) select ?::bigint + g, 'en' from generate_series(1, ?) g`,
      [base, N],
    );
    const subs: Array<{ id: string; telegram_id: string }> = await conn.execute(
      `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email,
                                  subscription_token, starts_at, expires_at)
       select gen_random_uuid(), u.id, ?, ?, 'active', gen_random_uuid(), 'scale-' || u.telegram_id,
              md5(random()::text || u.telegram_id), now(), now() + interval '1 hour'
         from users u where u.telegram_id > ? and u.telegram_id <= ?
       returning id, (select telegram_id from users where users.id = user_id)::text as telegram_id`,
      [tariff.id, j.sys.nodeId, base, base + N],
    );
    assert.equal(subs.length, N);

    // All remind at the same instant; the end is far enough after it that no revoke runs during the test.
    const t0 = Date.now();
    const dueAt = t0 + 20_000;
    const expiresAt = dueAt + 10 * 60_000;
    await conn.execute(`update subscriptions set expires_at = ? where id = any(?::uuid[])`, [
      new Date(expiresAt),
      `{${subs.map((s) => s.id).join(',')}}`,
    ]);
    handles.push(
      ...(await pool(subs, 50, (s) =>
        j.sys.client.workflow.start('subscriptionWorkflow', {
          workflowId: subscriptionWorkflowId(s.id),
          taskQueue: j.sys.queue,
          args: [
            {
              subscriptionId: s.id,
              telegramId: s.telegram_id,
              language: 'en',
              nodeId: j.sys.nodeId!,
              expiresAt: new Date(expiresAt).toISOString(),
              remindBeforeMs: [expiresAt - dueAt],
            } satisfies SubscriptionInput,
          ],
        }),
      )),
    );
    const startedIn = Date.now() - t0;
    await j.sys.startWorkers();
    console.log(
      `      ${N} lifetime workflows started in ${(startedIn / 1000).toFixed(1)} s, ` +
        `workers up ${((dueAt - Date.now()) / 1000).toFixed(1)} s before the reminders fall due`,
    );

    const chats = new Set(subs.map((s) => Number(s.telegram_id)));
    const reminders = () =>
      j.emu
        .calls('sendMessage')
        .filter((c) => !c.error && chats.has(Number(c.params.chat_id)) && /ends in/.test(textOf(c)));
    await until(() => reminders().length >= N, `${N} reminders`, dueAt - Date.now() + 400_000, 250);
    await new Promise((r) => setTimeout(r, 2_000)); // any duplicate would show up now

    const sent = reminders();
    const perChat = new Map<number, number>();
    for (const c of sent)
      perChat.set(Number(c.params.chat_id), (perChat.get(Number(c.params.chat_id)) ?? 0) + 1);
    assert.equal(perChat.size, N, 'every user got a reminder (0 lost)');
    assert.equal(sent.length, N, 'nobody got two');

    // What Telegram saw: accepted sends and all attempts (429s included) in the busiest second.
    const peakIn = (times: number[]) => {
      let peak = 0;
      for (let lo = 0, hi = 0; hi < times.length; hi++) {
        while (times[hi] - times[lo] >= 1000) lo++;
        peak = Math.max(peak, hi - lo + 1);
      }
      return peak;
    };
    const attempts = j.emu.calls('sendMessage').filter((c) => chats.has(Number(c.params.chat_id)));
    const tooMany = attempts.filter((c) => c.error?.error_code === 429);
    const otherErrors = j.emu.calls().filter((c) => c.error && c.error.error_code !== 429);
    const times = sent.map((c) => c.at).sort((a, b) => a - b);
    const lastS = (times[N - 1] - dueAt) / 1000;
    console.log(
      `      ${N} reminders delivered within ${lastS.toFixed(1)} s of falling due ` +
        `(first after ${((times[0] - dueAt) / 1000).toFixed(2)} s; ` +
        `${(N / ((times[N - 1] - times[0]) / 1000)).toFixed(1)} msg/s on average; ` +
        `busiest second: ${peakIn(times)} delivered, ${peakIn(attempts.map((c) => c.at).sort((a, b) => a - b))} attempted); ` +
        `429s from Telegram: ${tooMany.length}, each retried`,
    );
    assert.equal(otherErrors.length, 0, JSON.stringify(otherErrors.slice(0, 3)));
    // A 429 is only acceptable as a transparent retry: the same reminder, delivered once, after retry_after.
    for (const refused of tooMany) {
      const chat = Number(refused.params.chat_id);
      const retryAfterMs = Number(/retry after (\d+)/.exec(refused.error!.description)?.[1] ?? 1) * 1000;
      const delivered = sent.find((c) => Number(c.params.chat_id) === chat)!;
      assert.ok(
        delivered.at - refused.at >= retryAfterMs - 100,
        `chat ${chat}: retried ${delivered.at - refused.at} ms after a 429 with retry_after ${retryAfterMs} ms`,
      );
    }
    assert.ok(tooMany.length < N * 0.1, `${tooMany.length} 429s: the rate limit is not holding`);

    const [row] = await conn.execute(
      `select count(*)::int as sent from notifications where kind = 'reminder' and status = 'sent'`,
    );
    assert.equal(row.sent, N, 'every reminder is recorded as sent');
    const [blocked] = await conn.execute(
      `select count(*)::int as n from users where is_blocked and telegram_id > ? and telegram_id <= ?`,
      [base, base + N],
    );
    assert.equal(blocked.n, 0);
  });
});
