import assert from 'node:assert/strict';
import { createApiClient } from '../../bot/api-client';
import { createBot } from '../../bot/create-bot';
import { startWebhook } from '../../bot/webhook';
import { createLogger } from '../../infra/logger';
import { type FakeApi, startFakeApi } from '../support/fake-api';
import {
  type RecordedCall,
  startTelegramEmulator,
  type TelegramEmulator,
} from '../support/telegram-emulator';
import { startBotHarness } from './harness';

/**
 * Issue 10, item 11: one user's slow handler must not stall the others. User A's payment create hangs at
 * the API (held, not slept) while user B pays with Stars: B's pre_checkout_query must be answered while A
 * is still waiting, and A's own later update must wait for A's first one (per-chat order).
 */

const A = 7001;
const B = 7002;

interface Rig {
  emu: TelegramEmulator;
  api: FakeApi;
  stop(): Promise<void>;
}

const isScreen = (chat: number) => (c: RecordedCall) =>
  (c.method === 'sendMessage' || c.method === 'editMessageText') &&
  !c.error &&
  Number(c.params.chat_id) === chat;

async function slowUserDoesNotBlockPreCheckout({ emu, api }: Rig): Promise<void> {
  const tariff = api.tariffs[0];
  // B gets a Stars invoice; A gets the menu.
  emu.injectCommand(B, 'start');
  await emu.waitFor(isScreen(B));
  emu.injectCallback(B, `ps:${tariff.id}`);
  const invoice = await emu.waitFor((c) => c.method === 'sendInvoice' && Number(c.params.chat_id) === B);
  emu.injectCommand(A, 'start');
  await emu.waitFor(isScreen(A));

  // A taps "pay by card" and the API hangs on it (a 20 s create, as long as we like).
  const held = api.hold('POST /api/v1/payments/create');
  const sinceA = emu.calls().length;
  emu.injectCallback(A, `pc:${tariff.id}`);
  await held.reached;
  emu.injectCommand(A, 'start'); // A's next update: must wait behind A's hanging one

  try {
    const queryId = emu.injectPreCheckout({
      from: B,
      payload: String(invoice.params.payload),
      total_amount: 100,
    });
    const answer = await emu.waitFor(
      (c) => c.method === 'answerPreCheckoutQuery' && c.params.pre_checkout_query_id === queryId,
    );
    assert.ok(!answer.error, `pre-checkout answer refused: ${answer.error?.description}`);
    assert.equal(answer.params.ok, true);
    // A is still pending: neither A's payment screen nor A's later menu has been shown.
    assert.deepEqual(
      emu
        .calls()
        .slice(sinceA)
        .filter(isScreen(A))
        .map((c) => c.method),
      [],
    );
  } finally {
    held.release();
  }
  // Once the API answers, A's updates are served in the order A sent them.
  const menu = await emu.waitFor(
    (c, i) => i >= sinceA && isScreen(A)(c) && /Привет/.test(String(c.params.text)),
  );
  const screensA = emu.calls().slice(sinceA).filter(isScreen(A));
  assert.match(String(screensA[0].params.text), /Счёт на/);
  assert.ok(screensA.indexOf(menu) > 0, 'the menu came after the payment screen');
}

describe('bot: one slow chat does not block the others', () => {
  it('polling: B’s pre-checkout is answered while A’s create hangs; A’s updates keep their order', async () => {
    const h = await startBotHarness({ apiTimeoutMs: 30_000 });
    try {
      await slowUserDoesNotBlockPreCheckout(h);
    } finally {
      await h.stop();
    }
  });

  it('polling with every chat slot busy (concurrency 1): pre-checkout still jumps the line', async () => {
    const h = await startBotHarness({ concurrency: 1, apiTimeoutMs: 30_000 });
    try {
      await slowUserDoesNotBlockPreCheckout(h);
    } finally {
      await h.stop();
    }
  });

  it('webhook: the same, although Telegram (the emulator) pushes one update at a time', async () => {
    const emu = await startTelegramEmulator();
    const api = await startFakeApi();
    const logger = createLogger('bot-webhook-test', { write: () => undefined });
    const bot = createBot({
      token: emu.token,
      apiRoot: emu.url,
      api: createApiClient({ baseUrl: api.url, apiToken: api.apiToken, timeoutMs: 30_000 }),
      supportUrl: 'https://t.me/support',
      adminIds: [],
      logger,
    });
    const hook = await startWebhook({
      bot,
      url: (port) => `http://127.0.0.1:${port}/telegram/webhook`,
      secret: 'webhook_secret',
      port: 0,
      host: '127.0.0.1',
      logger,
    });
    try {
      await slowUserDoesNotBlockPreCheckout({ emu, api, stop: async () => undefined });
    } finally {
      await hook.close();
      await bot.idle();
      await emu.close();
      await api.close();
    }
  });
});
