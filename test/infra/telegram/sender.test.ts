import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  TelegramBlockedError,
  TelegramRateLimitedError,
  TelegramRejectedError,
  TelegramUnavailableError,
} from '../../../infra/telegram/errors';
import { createTelegramSender, type TelegramSender } from '../../../infra/telegram/sender';
import { startTelegramEmulator, type TelegramEmulator } from '../../support/telegram-emulator';

// A real (tiny) PNG: signature + IHDR chunk, enough to compare bytes end to end.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

describe('infra/telegram/sender against the Bot API emulator', () => {
  let emu: TelegramEmulator;
  let sender: TelegramSender;

  beforeEach(async () => {
    emu = await startTelegramEmulator();
    sender = createTelegramSender({ apiRoot: emu.url, botToken: emu.token, timeoutMs: 2000 });
  });
  afterEach(() => emu.close());

  it('sends a message with buttons and HTML, recorded by the emulator', async () => {
    const sent = await sender.sendMessage(42, '<b>Hi</b> &amp; welcome', {
      parseMode: 'HTML',
      buttons: [[{ text: 'Renew', callbackData: 'rn' }], [{ text: 'Site', url: 'https://example.com' }]],
    });
    const [call] = emu.calls('sendMessage');
    assert.equal(call.params.chat_id, 42);
    assert.equal(call.params.text, '<b>Hi</b> &amp; welcome');
    assert.deepEqual(call.params.reply_markup, {
      inline_keyboard: [
        [{ text: 'Renew', callback_data: 'rn' }],
        [{ text: 'Site', url: 'https://example.com' }],
      ],
    });
    assert.equal(sent.messageId, emu.messages(42).at(-1)?.message_id);
  });

  it('uploads a photo as multipart and the emulator records its exact bytes and caption', async () => {
    await sender.sendPhoto(42, PNG, 'Your <b>QR</b>', {
      parseMode: 'HTML',
      buttons: [[{ text: 'Guide', callbackData: 'g' }]],
    });
    const [call] = emu.calls('sendPhoto');
    assert.ok(call.photo, 'photo bytes recorded');
    assert.ok(call.photo.equals(PNG));
    assert.equal(call.params.caption, 'Your <b>QR</b>');
    assert.equal(call.params.chat_id, '42'); // multipart fields are strings, as on the wire
    assert.deepEqual(call.params.reply_markup, {
      inline_keyboard: [[{ text: 'Guide', callback_data: 'g' }]],
    });
  });

  it('maps 429 to TelegramRateLimitedError carrying retry_after', async () => {
    emu.failNext('sendMessage', { code: 429, retry_after: 7 });
    const err = await sender.sendMessage(1, 'x').catch((e: unknown) => e);
    assert.ok(err instanceof TelegramRateLimitedError);
    assert.equal(err.retryAfterSec, 7);
    assert.equal(err.retryable, true);
  });

  it('maps the emulator 30 msg/s global limit to TelegramRateLimitedError', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 35 }, (_, i) => sender.sendMessage(1000 + i, 'burst')),
    );
    const limited = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof TelegramRateLimitedError,
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 30);
    assert.equal(limited.length, 5);
  });

  it('maps a blocked user (403) to the permanent TelegramBlockedError', async () => {
    emu.blockUser(77);
    const err = await sender.sendPhoto(77, PNG).catch((e: unknown) => e);
    assert.ok(err instanceof TelegramBlockedError);
    assert.equal(err.code, 403);
    assert.equal(err.retryable, false);
    emu.failNext('sendMessage', { code: 400, description: 'Bad Request: chat not found' });
    assert.ok((await sender.sendMessage(5, 'x').catch((e: unknown) => e)) instanceof TelegramBlockedError);
  });

  it('maps other 4xx to TelegramRejectedError and 5xx to TelegramUnavailableError', async () => {
    const bad = await sender.sendMessage(1, '<b>unclosed', { parseMode: 'HTML' }).catch((e: unknown) => e);
    assert.ok(bad instanceof TelegramRejectedError);
    assert.match(bad.description, /can't parse entities/);
    emu.failNext('sendMessage', { code: 500 });
    const down = await sender.sendMessage(1, 'x').catch((e: unknown) => e);
    assert.ok(down instanceof TelegramUnavailableError);
    assert.equal(down.retryable, true);
  });

  it('maps an unreachable API to TelegramUnavailableError without leaking the token', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const offline = createTelegramSender({
      apiRoot: `http://127.0.0.1:${port}`,
      botToken: emu.token,
      timeoutMs: 500,
    });
    const err = await offline.sendMessage(1, 'x').catch((e: unknown) => e);
    assert.ok(err instanceof TelegramUnavailableError);
    assert.ok(!String(err.message).includes(emu.token.split(':')[1]));
  });

  it('refunds a Stars payment the user made, and rejects an unknown charge', async () => {
    emu.injectSuccessfulPayment({
      from: 9,
      payload: 'p1',
      total_amount: 50,
      telegram_payment_charge_id: 'ch-1',
    });
    await sender.refundStarPayment(9, 'ch-1');
    assert.equal(emu.calls('refundStarPayment').length, 1);
    const err = await sender.refundStarPayment(9, 'ch-unknown').catch((e: unknown) => e);
    assert.ok(err instanceof TelegramRejectedError);
  });

  it('lists Star transactions in Telegram’s shape: payments in with the user as source, refunds out, paged', async () => {
    emu.injectSuccessfulPayment({
      from: 11,
      payload: 'p2',
      total_amount: 7,
      telegram_payment_charge_id: 'ch-2',
    });
    emu.injectSuccessfulPayment({
      from: 12,
      payload: 'p3',
      total_amount: 9,
      telegram_payment_charge_id: 'ch-3',
    });
    await sender.refundStarPayment(11, 'ch-2');
    const second = await sender.refundStarPayment(11, 'ch-2').catch((e: unknown) => e);
    assert.ok(second instanceof TelegramRejectedError);
    assert.match(
      second.description,
      /CHARGE_ALREADY_REFUNDED/,
      'a second refund is answered like Telegram does',
    );
    const all = await sender.getStarTransactions(0, 100);
    const ch2 = all.filter((t) => t.id === 'ch-2');
    assert.deepEqual(
      ch2.map((t) => [
        t.amount,
        t.source?.type ?? null,
        t.source?.user?.id ?? null,
        t.receiver?.user?.id ?? null,
      ]),
      [
        [7, 'user', 11, null],
        [7, null, null, 11],
      ],
    );
    assert.ok(ch2.every((t) => Number.isInteger(t.date)));
    const paged = await sender.getStarTransactions(all.length - 1, 1);
    assert.deepEqual(paged, [all.at(-1)]);
    const err = await sender.getStarTransactions(0, 101).catch((e: unknown) => e);
    assert.ok(err instanceof TelegramRejectedError, 'limit is 1–100');
  });
});
