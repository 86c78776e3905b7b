import assert from 'node:assert/strict';
import { t } from '../../../infra/i18n';
import { parseTelegramHtml } from '../../support/bot-api-emulator/html';

// "My subscription" and the activation message link to the subscription page, in both languages.
describe('bot texts link to the subscription page', () => {
  const url = 'https://vpn.example/sub/tok_0123456789abcdef';
  const link = `<a href="${url}?format=html">`;
  for (const lang of ['ru', 'en'] as const) {
    const m = t(lang);
    const texts = {
      'My subscription': m.subscription.active({
        tariffName: 'Month',
        daysRemaining: 3,
        endDate: '2030-01-15T10:30:00Z',
        vlessUrl: 'vless://x@h:443',
        subscriptionUrl: url,
      }),
      activation: m.notifications.activation({
        expiresAt: new Date(),
        vlessUrl: 'vless://x@h:443',
        subscriptionUrl: url,
      }),
    };
    for (const [name, text] of Object.entries(texts)) {
      it(`${lang}: ${name} carries a link to the page, as valid Telegram HTML`, () => {
        assert.ok(text.includes(link), text);
        assert.doesNotThrow(() => parseTelegramHtml(text));
      });
    }
  }
});
