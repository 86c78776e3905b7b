import assert from 'node:assert/strict';
import { langFor, type Messages, t, YOOKASSA_REASONS } from '../../../infra/i18n';
import { parseTelegramHtml } from '../../support/bot-api-emulator/html';

/** Every string value reachable in a catalog, with functions called on sample arguments. */
function samples(m: Messages): string[] {
  const nasty = 'vless://id@host:443?security=reality&sni=a.b#<Tag & "x">';
  const when = '2030-01-15T10:30:00Z';
  const tariff = { name: 'Pro <VIP> & co', durationDays: 30, price: '199.00', currency: 'RUB' };
  return [
    m.menu.welcome('<script>'),
    m.tariffs.chooseMethod(tariff),
    m.tariffs.paymentCreated({ amount: '199.00', currency: 'RUB', expiresAt: when }),
    m.subscription.active({
      tariffName: '<b>',
      daysRemaining: 3,
      endDate: when,
      vlessUrl: nasty,
      subscriptionUrl: 'https://x/sub/a&b',
    }),
    m.subscription.notActive('canceled'),
    m.notifications.activation({ expiresAt: when, vlessUrl: nasty, subscriptionUrl: 'https://x/sub/a&b' }),
    m.notifications.paymentFailed({ reason: 'insufficient_funds' }),
    m.notifications.paymentExpired,
    m.notifications.reminder({ hoursLeft: 24, expiresAt: when }),
    m.notifications.expired,
    m.notifications.refundDone({ amount: '199.00', currency: 'RUB' }),
    m.notifications.renewed({ expiresAt: when }),
    m.support.help,
    m.admin.findUserHint,
    ...Object.values(m.guides.steps),
    ...Object.values(m.errors),
    ...Object.values(m.payments),
  ];
}

describe('infra/i18n', () => {
  it('picks English for en* language codes and Russian for everything else', () => {
    assert.equal(langFor('en'), 'en');
    assert.equal(langFor('en-GB'), 'en');
    for (const code of ['ru', 'uk', 'de', '', undefined, null]) assert.equal(langFor(code), 'ru');
    assert.equal(t('en-US').buttons.renew, '🔄 Renew');
    assert.equal(t(undefined).buttons.renew, '🔄 Продлить');
  });

  it('produces valid Telegram HTML, escaping user-controlled values', () => {
    for (const lang of ['ru', 'en'] as const) {
      for (const text of samples(t(lang))) {
        assert.doesNotThrow(() => parseTelegramHtml(text), text);
      }
    }
    assert.match(
      t('ru').notifications.activation({ expiresAt: new Date(), vlessUrl: 'a&b<c>', subscriptionUrl: 's' }),
      /a&amp;b&lt;c&gt;/,
    );
  });

  it('explains every YooKassa cancellation reason in plain words, with a fallback', () => {
    for (const lang of ['ru', 'en'] as const) {
      const m = t(lang);
      const generic = m.failureReason('something_new');
      const texts = YOOKASSA_REASONS.map((r) => m.failureReason(r));
      for (const [i, text] of texts.entries())
        assert.notEqual(text, generic, `${lang}: ${YOOKASSA_REASONS[i]}`);
      assert.equal(new Set(texts).size, texts.length, 'each reason has its own text');
      assert.ok(m.notifications.paymentFailed({ reason: null }).includes(generic));
    }
    assert.match(
      t('ru').notifications.paymentFailed({ reason: 'insufficient_funds' }),
      /недостаточно средств/,
    );
    assert.match(
      t('en').notifications.paymentFailed({ reason: 'expired_on_confirmation' }),
      /not completed in time/,
    );
  });

  it('formats durations, time left, dates and prices', () => {
    const ru = t('ru');
    const en = t('en');
    assert.equal(ru.duration(30), '30 дней');
    assert.equal(ru.duration(1), '1 день');
    assert.equal(ru.duration(1 / 24), '1 час');
    assert.equal(ru.duration(2 / 1440), '2 минуты');
    assert.equal(en.duration(3 / 24), '3 hours');
    assert.match(
      ru.notifications.reminder({ hoursLeft: 72, expiresAt: '2030-01-15T10:30:00Z' }),
      /через 3 дня \(15 января 2030 \D*13:30 МСК\)/,
    );
    assert.match(
      en.notifications.reminder({ hoursLeft: 1, expiresAt: '2030-01-15T10:30:00Z' }),
      /in 1 hour \(15 January 2030/,
    );
    assert.equal(
      ru.buttons.tariff({ name: 'Месяц', durationDays: 30, price: '199.00', currency: 'RUB' }),
      'Месяц · 30 дней · 199 ₽',
    );
    assert.match(en.notifications.refundDone({ amount: '149.5', currency: 'RUB' }), /149\.50 ₽/);
  });
});
