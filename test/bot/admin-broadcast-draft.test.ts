import assert from 'node:assert/strict';
import {
  entitiesToHtml,
  parseAdminMessage,
  parseBroadcastMessage,
  parseTelegramIds,
} from '../../bot/handlers/admin-broadcast-draft';

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

  it("Telegram's own formatting (entities) becomes the same HTML; without it the text is typed HTML", () => {
    // "Sale 🔥 now" with "Sale 🔥" bold (🔥 is two UTF-16 units), "now" a link; "<3" must be escaped.
    const text = 'Sale 🔥 now <3';
    const html = entitiesToHtml(text, [
      { type: 'bold', offset: 0, length: 7 },
      { type: 'italic', offset: 5, length: 2 },
      { type: 'text_link', offset: 8, length: 3, url: 'https://vpn.example/?a=1&b=2' },
      { type: 'url', offset: 0, length: 1 },
    ]);
    assert.equal(html, '<b>Sale <i>🔥</i></b> <a href="https://vpn.example/?a=1&amp;b=2">now</a> &lt;3');
    assert.equal(entitiesToHtml('<b>typed</b>', [{ type: 'mention', offset: 0, length: 3 }]), null);
    // Overlapping (not nested) ranges still give nested tags.
    assert.equal(
      entitiesToHtml('abcd', [
        { type: 'bold', offset: 0, length: 3 },
        { type: 'italic', offset: 1, length: 3 },
      ]),
      '<b>a<i>bc</i></b><i>d</i>',
    );
    const parsed = parseAdminMessage('Hot & new\nShop & more | https://vpn.example/?a=1&b=2', [
      { type: 'bold', offset: 0, length: 3 },
    ]);
    assert.deepEqual(parsed, {
      ok: true,
      message: {
        text: '<b>Hot</b> &amp; new',
        buttons: [[{ text: 'Shop & more', url: 'https://vpn.example/?a=1&b=2' }]],
      },
    });
  });
});
