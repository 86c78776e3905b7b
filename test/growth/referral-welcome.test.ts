import assert from 'node:assert/strict';
import { type ApiHarness, startApiOnSystem } from '../api/harness';
import { PurchaseSystem } from '../support/system';
import { activeAccess, buyAndPay, register, until } from './helpers';

const REFERRER = 830_001;
const REFEREE = 830_002;

describe('referrals: REFERRAL_WELCOME_DAYS for the referee, REFERRAL_BONUS_DAYS=0 turns the bonus off', function () {
  this.timeout(120_000);
  const sys = new PurchaseSystem({ growth: { referralBonusDays: 0, referralWelcomeDays: 2 } });
  let api: ApiHarness;
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('welcome-hour', 3_600);
    api = await startApiOnSystem(sys);
  });
  after(async () => {
    await api?.close();
    await sys.stop();
  });

  it('the referee gets the paid hour plus 2 days, the referrer nothing', async () => {
    await register(api, REFERRER);
    const { code } = (await api.call('GET', `/api/v1/users/${REFERRER}/referral`)).body;
    await register(api, REFEREE, `ref_${code}`);
    assert.equal((await buyAndPay(sys, api, REFEREE, 'welcome-hour')).result.outcome, 'granted');
    await sys.client.workflow.getHandle(`referral-${REFEREE}`).result();

    const access = await until('the referee access', () => activeAccess(sys, REFEREE));
    const lengthMs = new Date(access.expires_at).getTime() - new Date(access.starts_at).getTime();
    assert.equal(lengthMs, 3_600_000 + 2 * 86_400_000, 'paid hour + 2 welcome days');
    assert.equal(await activeAccess(sys, REFERRER), undefined, 'no bonus with REFERRAL_BONUS_DAYS=0');
    await sys.telegram.waitFor(
      (c) =>
        Number(c.params.chat_id) === REFEREE &&
        /You came by invitation — here are 2 days/.test(String(c.params.text)),
      30_000,
    );
    const summary = await api.call('GET', `/api/v1/users/${REFERRER}/referral`);
    assert.deepEqual([summary.body.invited, summary.body.bonus_days_earned], [1, 0]);
  });
});
