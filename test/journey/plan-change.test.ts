import assert from 'node:assert/strict';
import { formatPrice } from '../../infra/i18n/format';
import { Journey, buttonsOf, textOf } from '../support/journey';

// Changing the plan in Telegram (issue 13): My subscription → Change plan → the plans with the credit taken
// off → pay the difference on the YooKassa page → the same key, the new plan. Everything real but the two SaaS.
describe('journey: changing the plan in the bot (ru/en)', function () {
  this.timeout(180_000);
  const j = new Journey({ remindBefore: '1h', paymentTimeout: '10m' });
  let nextId = 7_300_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  after(() => j.stop());
  before(() => j.start());

  const tariffName = async (tg: number): Promise<string> =>
    (await j.api.call('GET', `/api/v1/subscriptions/${tg}/status`)).body.tariff_name;
  const uuidOf = (text: string) => /vless:\/\/([0-9a-f-]{36})@/.exec(text)?.[1];

  async function buyMonth(language: 'en' | 'ru') {
    const u = j.user(nextId++, { language_code: language });
    await u.start();
    const plans = language === 'en' ? '💳 Plans' : /Тарифы/;
    await u.tap(plans);
    await u.tap(/^1 месяц · /);
    const invoice = await u.tap(/YooKassa|ЮKassa/);
    assert.ok(buttonsOf(invoice).some((b) => b.url));
    const since = j.mark();
    await j.payOnPage(u.openUrl(/➡️/));
    const key = await u.waitMessage(/vless:\/\//, since, 30_000);
    return { u, uuid: uuidOf(textOf(key)) };
  }

  it('en: Change plan shows the credit, the upgrade asks for exactly the difference, the key stays', async () => {
    const { u, uuid } = await buyMonth('en');
    await u.start();
    await u.tap('🔑 My subscription', { method: 'sendMessage', text: /Your subscription is active/ });
    const list = await u.tap('🔀 Change plan', { text: /Change plan/ });
    const credit = /worth <b>([\d.,\s]+)/.exec(textOf(list))?.[1];
    assert.ok(credit && /19[89]/.test(credit), `the credit is shown: ${textOf(list)}`);
    const upgrade = buttonsOf(list).find((b) => /^⬆️ 3 месяца · pay /.test(b.text));
    assert.ok(upgrade, JSON.stringify(buttonsOf(list).map((b) => b.text)));

    const pay = await u.tap(/^⬆️ 3 месяца · pay /, { text: /To pay/ });
    const url = u.openUrl('➡️ Go to payment');
    const [p] = await j.sys.orm.em.getConnection().execute(
      `select p.amount, p.provider_payment_id, pc.credit from payments p join plan_changes pc on pc.id = p.id
          join users us on us.id = p.user_id where us.telegram_id = ? and p.purpose = 'upgrade'`,
      [u.id],
    );
    assert.equal(Math.round(Number(p.amount) * 100), 49_900 - Math.round(Number(p.credit) * 100));
    assert.equal(j.sys.yookassa.payment(p.provider_payment_id).amount.value, String(p.amount));
    assert.ok(
      textOf(pay).includes(formatPrice(String(p.amount), 'RUB')),
      `the screen names the difference: ${textOf(pay)}`,
    );

    const since = j.mark();
    await j.payOnPage(url);
    await u.waitMessage(/extended until/, since, 30_000);
    assert.equal(await tariffName(u.id), '3 месяца');
    assert.equal((await j.status(u.id)).days_remaining, 90);
    const config = (await j.api.call('GET', `/api/v1/subscriptions/${u.id}/config`)).body;
    assert.equal(uuidOf(config.vless_url), uuid, 'the same key after the upgrade');
  });

  it('ru: a cheaper plan is scheduled for the renewal, shown on the screen, and can be called off', async () => {
    const { u } = await buyMonth('ru');
    // Onto 3 months first (paid), so that 1 month is a downgrade.
    const up = await j.api.call('POST', `/api/v1/subscriptions/${u.id}/change`, {
      body: { tariff_slug: 'month-3' },
    });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const since = j.mark();
    await j.payOnPage(up.body.confirmation_url);
    // The upgrade's message comes first, so the screens below are the latest keyboards in the chat.
    await u.waitMessage(/Подписка продлена/, since, 30_000);
    assert.equal(await tariffName(u.id), '3 месяца');

    await u.start();
    await u.tap(/Моя подписка/, { method: 'sendMessage', text: /Подписка активна/ });
    const list = await u.tap(/Сменить тариф/, { text: /Смена тарифа/ });
    assert.match(textOf(list), /Неиспользованная часть текущей подписки/);
    const scheduled = await u.tap(/^⬇️ 1 месяц · /, { text: /Переход запланирован/ });
    assert.match(textOf(scheduled), /при следующем продлении/);
    const again = await (async () => {
      await u.start();
      await u.tap(/Моя подписка/, { method: 'sendMessage', text: /Подписка активна/ });
      return u.tap(/Сменить тариф/, { text: /Смена тарифа/ });
    })();
    assert.match(textOf(again), /Запланирован переход на «1 месяц»/);
    await u.tap(/^↩️ Остаться на «3 месяца»/, { text: /отменена/ });
    assert.equal(await tariffName(u.id), '3 месяца');
  });
});
