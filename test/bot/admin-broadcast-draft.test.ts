import assert from 'node:assert/strict';
import { parseBroadcastMessage, parseTelegramIds } from '../../bot/handlers/admin-broadcast-draft';

// What the admin types into the broadcast composer, read into the admin API's fields.
describe('bot admin: the broadcast draft', () => {
  it('reads a picture line, HTML text and "label | url" button lines', () => {
    const parsed = parseBroadcastMessage(
      'photo: https://cdn.example/sale.jpg\n<b>Sale</b>\n\nsecond line\nShop | https://vpn.example/shop\nHelp|https://t.me/help\n',
    );
    assert.deepEqual(parsed, {
      ok: true,
      message: {
        text: '<b>Sale</b>\n\nsecond line',
        photo_url: 'https://cdn.example/sale.jpg',
        buttons: [
          [{ text: 'Shop', url: 'https://vpn.example/shop' }],
          [{ text: 'Help', url: 'https://t.me/help' }],
        ],
      },
    });
  });

  it('a pipe inside the text is text; only trailing lines become buttons', () => {
    const parsed = parseBroadcastMessage('a | https://x.example in the middle\nplain end');
    assert.deepEqual(parsed, {
      ok: true,
      message: { text: 'a | https://x.example in the middle\nplain end' },
    });
  });

  it('refuses what the API or Telegram would: no text, http picture, long caption, long label, > 10 buttons', () => {
    const problem = (raw: string) => {
      const p = parseBroadcastMessage(raw);
      return p.ok ? 'ok' : p.problem;
    };
    assert.equal(problem('Shop | https://vpn.example/shop'), 'empty');
    assert.equal(problem('photo: http://cdn.example/a.jpg\nhi'), 'bad_photo');
    assert.equal(problem(`photo: https://cdn.example/a.jpg\n${'x'.repeat(1025)}`), 'caption_too_long');
    assert.equal(problem('x'.repeat(4097)), 'too_long');
    assert.equal(problem(`hi\n${'L'.repeat(65)} | https://a.example`), 'bad_button');
    const eleven = Array.from({ length: 11 }, (_, i) => `b${i} | https://a.example/${i}`).join('\n');
    assert.equal(problem(`hi\n${eleven}`), 'too_many_buttons');
  });

  it('pasted ids: any separators, duplicates once; the first bad token is named', () => {
    assert.deepEqual(parseTelegramIds('953000011, 953000012\n953000013;953000011'), {
      ok: true,
      ids: [953000011, 953000012, 953000013],
    });
    assert.deepEqual(parseTelegramIds('953000011 @ann 5'), { ok: false, bad: '@ann' });
    assert.deepEqual(parseTelegramIds('0'), { ok: false, bad: '0' });
    assert.equal(parseTelegramIds('  ').ok, false);
  });
});
