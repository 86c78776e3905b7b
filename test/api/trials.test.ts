import assert from 'node:assert/strict';
import type { PurchaseSystem } from '../support/system';
import { trialWorkflowId } from '../../workflows/trial-messages';
import { uniqueTelegramId } from './fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from './harness';
import { waitFor } from '../support/wait-for-value';

describe('trials: one free access per Telegram user, on a real node, with its own lifetime', function () {
  this.timeout(180_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem({ remindBeforeMs: [1_000] });
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys, { TRIAL_DURATION: '3d' });
  });
  after(async () => {
    await api?.close();
    await sys?.stop();
  });

  const sql = (q: string, p: unknown[] = []) => sys.orm.em.getConnection().execute(q, p);
  const register = async (tg: number) => {
    const res = await api.call('POST', '/api/v1/users/register', {
      body: { telegram_id: tg, language: 'en' },
    });
    assert.ok([200, 201].includes(res.status), JSON.stringify(res.body));
  };
  const trialState = async (tg: number) => {
    const res = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.trial as { state: string; end_date: string | null; duration_seconds: number };
  };
  /** The paid tariffs' one-tap buttons ("+tr:<id>") under a message, in order. */
  const tariffTaps = (call: { params: Record<string, unknown> }) =>
    (
      (call.params.reply_markup as { inline_keyboard?: Array<Array<{ callback_data?: string }>> })
        ?.inline_keyboard ?? []
    )
      .flat()
      .map((b) => b.callback_data ?? '')
      .filter((d) => d.startsWith('+tr:'));
  const activeConfig = (tg: number) =>
    waitFor(async () => {
      const res = await api.call('GET', `/api/v1/subscriptions/${tg}/config`);
      return res.status === 200 ? res.body : undefined;
    }, 'the trial key');

  it('grants a trial whose key carries real traffic through a real Xray client, found as trial-<tg> in Temporal', async () => {
    const { httpGetViaSocks, startHttpTarget, startXrayClient } =
      require('../support/xray') as typeof import('../support/xray');
    const tg = uniqueTelegramId();
    await register(tg);
    assert.deepEqual(await trialState(tg), {
      state: 'available',
      end_date: null,
      duration_seconds: 3 * 86_400,
    });
    const res = await api.call('POST', '/api/v1/trials', { body: { telegram_id: tg } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(await trialState(tg), {
      state: 'active',
      end_date: res.body.end_date,
      duration_seconds: 3 * 86_400,
    });
    const days = (Date.parse(res.body.end_date) - Date.now()) / 86_400_000;
    assert.ok(days > 2.99 && days <= 3, `ends in ${days} days`);
    assert.equal(res.body.workflow_id, `trial-${tg}`);

    const config = await activeConfig(tg);
    assert.match(config.vless_url, /^vless:\/\//);
    const handle = api.temporal.workflow.getHandle(trialWorkflowId(String(tg)));
    const result = await handle.result();
    assert.equal(result.outcome, 'activated');
    assert.equal(result.subscriptionId, res.body.subscription_id);
    const [sub] = await sql(`select * from subscriptions where id = ?`, [res.body.subscription_id]);
    assert.equal(new Date(sub.expires_at).toISOString(), res.body.end_date);
    assert.ok((await sys.nodeClients()).includes(res.body.subscription_id), 'the client is on the node');

    // The key message with the QR reached the user (Telegram emulator).
    await waitFor(
      async () =>
        // The key goes as one photo with the key in its caption (activities/telegram.ts).
        sys.telegram.sentTo(tg).some((c) => /vless:\/\//.test(String(c.params.caption ?? c.params.text)))
          ? true
          : undefined,
      'the activation message',
    );

    const site = await startHttpTarget();
    const client = await startXrayClient(config.vless_url);
    try {
      const got = await httpGetViaSocks(client.socksPort, site.url('/slow?chunks=2&ms=10'), {
        timeoutMs: 15_000,
      });
      assert.equal(got.status, 200);
    } finally {
      await client.stop();
      await site.close();
    }

    const desc = await handle.describe();
    assert.equal(desc.searchAttributes.TelegramId?.[0], String(tg));
    assert.equal(desc.searchAttributes.PurchaseStage?.[0], 'COMPLETED');
  });

  it('refuses a second trial, and of concurrent tries exactly one wins', async () => {
    const tg = uniqueTelegramId();
    await register(tg);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => api.call('POST', '/api/v1/trials', { body: { telegram_id: tg } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    for (const a of answers.filter((x) => x.status === 409)) assert.equal(a.body.error, 'trial_used');
    await activeConfig(tg);
    const again = await api.call('POST', '/api/v1/trials', { body: { telegram_id: tg } });
    assert.deepEqual([again.status, again.body.error], [409, 'trial_used']);
    const [count] = await sql(
      `select count(*)::int as n from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ?`,
      [tg],
    );
    assert.equal(count.n, 1);
  });

  it('refuses a trial to a user who bought before, and answers 404 for an unknown user', async () => {
    const tg = uniqueTelegramId();
    await register(tg);
    const { link, handle, paymentId } = await sys.buy(tg, 'month-1');
    sys.yookassa.pay(link.providerPaymentId!);
    const { signalProviderState } = require('../support/webhook') as typeof import('../support/webhook');
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    await handle.result();
    const res = await api.call('POST', '/api/v1/trials', { body: { telegram_id: tg } });
    assert.deepEqual([res.status, res.body.error], [409, 'trial_used']);
    assert.equal((await trialState(tg)).state, 'unavailable', 'a buyer is never offered the trial');
    const unknown = await api.call('POST', '/api/v1/trials', { body: { telegram_id: uniqueTelegramId() } });
    assert.equal(unknown.status, 404);
  });

  it('buying during a trial converts it: the same key keeps working, the end is max(trial end, now) + paid period', async () => {
    const tg = uniqueTelegramId();
    await register(tg);
    const trial = await api.call('POST', '/api/v1/trials', { body: { telegram_id: tg } });
    assert.equal(trial.status, 201);
    const before = await activeConfig(tg);
    await api.temporal.workflow.getHandle(trialWorkflowId(String(tg))).result();

    const [tariff] = await sql(`select * from tariffs where slug = 'month-1'`);
    const pay = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1' },
    });
    assert.equal(pay.status, 201, JSON.stringify(pay.body));
    const [row] = await sql(`select provider_payment_id from payments where id = ?`, [pay.body.payment_id]);
    sys.yookassa.pay(row.provider_payment_id);
    const { signalProviderState } = require('../support/webhook') as typeof import('../support/webhook');
    await signalProviderState(sys, pay.body.payment_id, row.provider_payment_id);
    const result = await api.temporal.workflow.getHandle(pay.body.workflow_id).result();
    assert.equal(result.outcome, 'extended');
    assert.equal(result.subscriptionId, trial.body.subscription_id);
    assert.equal(
      Date.parse(result.expiresAt),
      Date.parse(trial.body.end_date) + Number(tariff.duration_seconds) * 1000,
    );
    const after = await api.call('GET', `/api/v1/subscriptions/${tg}/config`);
    assert.equal(after.body.vless_url, before.vless_url);
    assert.deepEqual(await trialState(tg), {
      state: 'converted',
      end_date: null,
      duration_seconds: 3 * 86_400,
    });
    const stats = await api.call('GET', '/api/v1/admin/stats', { token: ADMIN_TOKEN });
    assert.ok(stats.body.growth.trials.converted >= 1, JSON.stringify(stats.body.growth.trials));
  });

  it('revokes a trial on time (short TRIAL_DURATION), and TRIAL_DURATION=0 turns trials off', async () => {
    const short = await startApiOnSystem(sys, { TRIAL_DURATION: '4s' });
    const off = await startApiOnSystem(sys, { TRIAL_DURATION: '0' });
    try {
      const tg = uniqueTelegramId();
      await register(tg);
      const refused = await off.call('POST', '/api/v1/trials', { body: { telegram_id: tg } });
      assert.deepEqual([refused.status, refused.body.error], [403, 'trials_off']);

      const res = await short.call('POST', '/api/v1/trials', { body: { telegram_id: tg } });
      assert.equal(res.status, 201);
      const id = res.body.subscription_id;
      await waitFor(
        async () => ((await sys.nodeClients()).includes(id) ? true : undefined),
        'the client on the node',
      );
      const [expired] = await waitFor(async () => {
        const rows = await sql(`select status, expires_at from subscriptions where id = ?`, [id]);
        return rows[0]?.status === 'expired' ? rows : undefined;
      }, 'the revoke');
      assert.ok(Date.now() >= new Date(expired.expires_at).getTime(), 'not revoked before its end');
      assert.ok(!(await sys.nodeClients()).includes(id), 'the client is gone from the node');
      // The trial's reminder and its end message offer the paid tariffs themselves: one tap opens a plan.
      const paid = await sql(
        `select id from tariffs where is_active and price > 0 order by display_order, id limit 5`,
      );
      const offered = paid.map((r) => `+tr:${r.id}`);
      assert.ok(offered.length > 0);
      const ended = await waitFor(
        async () =>
          sys.telegram
            .sentTo(tg)
            .find((c) => /free trial has ended|Пробный период закончился/.test(String(c.params.text))),
        'the trial end message',
      );
      assert.deepEqual(tariffTaps(ended), offered, 'the end message lists the paid plans');
      const reminders = sys.telegram
        .sentTo(tg)
        .filter((c) => /free trial ends in|Пробный период закончится/.test(String(c.params.text)));
      for (const r of reminders) assert.deepEqual(tariffTaps(r), offered, 'a reminder lists the paid plans');
      assert.ok(
        !sys.telegram
          .sentTo(tg)
          .some((c) => /"callback_data":"\+rn"/.test(JSON.stringify(c.params.reply_markup ?? ''))),
        'no generic Renew button for a trial',
      );
      assert.equal((await short.call('GET', `/api/v1/subscriptions/${tg}/status`)).body.trial.state, 'ended');
      const again = await short.call('POST', '/api/v1/trials', { body: { telegram_id: tg } });
      assert.deepEqual([again.status, again.body.error], [409, 'trial_used']);
    } finally {
      await short.close();
      await off.close();
    }
  });
});
