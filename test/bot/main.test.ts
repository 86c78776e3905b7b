import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { FOREIGN_SECRETS, loadBotConfig, scrubForeignSecrets } from '../../bot/config';
import { type FakeApi, startFakeApi } from '../support/fake-api';
import { startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator';

const ROOT = path.resolve(__dirname, '../..');
const BASE_ENV = { BOT_TOKEN: '123:abc', API_TOKEN: 't', SUPPORT_URL: 'https://t.me/help' };

function runBot(env: Record<string, string>): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
  stdout: () => string;
} {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'bot/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  let stdout = '';
  child.stdout?.on('data', (c) => {
    stdout += c;
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  return { child, done, stdout: () => stdout };
}

describe('bot/main and bot/config', () => {
  it('reads defaults and the admin id list', () => {
    const config = loadBotConfig({ ...BASE_ENV, ADMIN_TELEGRAM_IDS: ' 1, 22 ,', API_URL: '' });
    assert.equal(config.apiRoot, 'https://api.telegram.org');
    assert.equal(config.mode, 'polling');
    assert.equal(config.apiUrl, 'http://localhost:8080');
    assert.deepEqual(config.adminIds, [1, 22]);
  });

  it('names the bad variable in one line', () => {
    const message = (env: Record<string, string>) => {
      try {
        loadBotConfig(env);
        return 'no error';
      } catch (err) {
        return (err as Error).message;
      }
    };
    assert.match(message({ ...BASE_ENV, BOT_TOKEN: '' }), /^Invalid configuration: BOT_TOKEN is required$/);
    assert.match(
      message({ ...BASE_ENV, BOT_MODE: 'webhook' }),
      /BOT_WEBHOOK_URL is required when BOT_MODE=webhook/,
    );
    assert.match(
      message({ ...BASE_ENV, ADMIN_TELEGRAM_IDS: '1,bob' }),
      /ADMIN_TELEGRAM_IDS "bob" is not a numeric/,
    );
    assert.match(
      message({
        ...BASE_ENV,
        BOT_MODE: 'webhook',
        BOT_WEBHOOK_URL: 'https://x.example/hook',
        TELEGRAM_WEBHOOK_SECRET: 'bad secret!',
      }),
      /TELEGRAM_WEBHOOK_SECRET/,
    );
  });

  it('secrets by role: reads only its own tokens, ignores and scrubs the others', () => {
    const full = {
      ...BASE_ENV,
      API_TOKEN: 'bot-api-token-0123456789',
      ADMIN_READ_TOKEN: 'admin-read-token-0123456789',
      ADMIN_TOKEN: 'full-admin-token-0123456789',
      DATABASE_URL: 'postgres://vpn:pw@db/vpn',
      YOOKASSA_SECRET_KEY: 'live_secret',
    };
    const config = loadBotConfig(full);
    assert.equal(config.apiToken, full.API_TOKEN);
    assert.equal(config.adminReadToken, full.ADMIN_READ_TOKEN);
    const text = JSON.stringify(config);
    for (const secret of [full.ADMIN_TOKEN, full.DATABASE_URL, full.YOOKASSA_SECRET_KEY])
      assert.ok(!text.includes(secret), 'the bot config holds no foreign secret');
    // ADMIN_TOKEN no longer opens the bot's admin screens (it used to be their bearer).
    assert.equal(
      loadBotConfig({ ...BASE_ENV, ADMIN_TOKEN: 'full-admin-token-0123456789' }).adminReadToken,
      undefined,
    );

    const env: NodeJS.ProcessEnv = { ...full };
    assert.deepEqual(scrubForeignSecrets(env), ['ADMIN_TOKEN', 'DATABASE_URL', 'YOOKASSA_SECRET_KEY']);
    for (const name of FOREIGN_SECRETS) assert.equal(env[name], undefined);
    assert.equal(env.API_TOKEN, full.API_TOKEN, 'its own tokens stay');
  });

  it('refuses a read token equal to API_TOKEN or to the full ADMIN_TOKEN', () => {
    const message = (env: Record<string, string>) => {
      try {
        loadBotConfig(env);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    assert.equal(
      message({ ...BASE_ENV, ADMIN_READ_TOKEN: BASE_ENV.API_TOKEN }),
      'Invalid configuration: ADMIN_READ_TOKEN must differ from API_TOKEN',
    );
    assert.equal(
      message({ ...BASE_ENV, ADMIN_READ_TOKEN: 'x'.repeat(20), ADMIN_TOKEN: 'x'.repeat(20) }),
      'Invalid configuration: ADMIN_READ_TOKEN must be the read-only admin token, not ADMIN_TOKEN',
    );
  });

  it('reads flood control and concurrency settings', () => {
    const config = loadBotConfig({
      ...BASE_ENV,
      BOT_FLOOD_LIMIT: '8',
      BOT_FLOOD_COOLDOWN: '30s',
      BOT_CONCURRENCY: '4',
    });
    assert.deepEqual(config.flood, { limit: 8, cooldownMs: 30_000 });
    assert.equal(config.concurrency, 4);
    assert.deepEqual(loadBotConfig(BASE_ENV).flood, { limit: 5, cooldownMs: 10_000 });
    assert.throws(() => loadBotConfig({ ...BASE_ENV, BOT_FLOOD_COOLDOWN: 'soon' }), /BOT_FLOOD_COOLDOWN/);
    assert.throws(() => loadBotConfig({ ...BASE_ENV, BOT_CONCURRENCY: '0' }), /BOT_CONCURRENCY/);
  });

  it('npm run bot with a missing variable exits 1 with one line and no stack trace', async () => {
    const { done } = runBot({ API_TOKEN: 't', SUPPORT_URL: 'https://t.me/help' });
    const { code, stderr } = await done;
    assert.equal(code, 1);
    assert.equal(stderr.trim(), 'Invalid configuration: BOT_TOKEN is required');
  });

  describe('the real process against the emulator', () => {
    let emu: TelegramEmulator;
    let api: FakeApi;
    beforeEach(async () => {
      emu = await startTelegramEmulator();
      api = await startFakeApi();
    });
    afterEach(async () => {
      await emu.close();
      await api.close();
    });

    it('polls, serves /start, and stops cleanly on SIGTERM', async () => {
      const { child, done, stdout } = runBot({
        BOT_TOKEN: emu.token,
        TELEGRAM_API_ROOT: emu.url,
        API_URL: api.url,
        API_TOKEN: api.apiToken,
        SUPPORT_URL: 'https://t.me/help',
        // A deployment that still hands the bot other processes' secrets: ignored, named, never printed.
        ADMIN_TOKEN: 'full-admin-token-must-not-leak',
        DATABASE_URL: 'postgres://vpn:db-password-must-not-leak@db/vpn',
      });
      try {
        await emu.waitForPolling(20_000);
        assert.equal(emu.calls('setMyCommands').length, 2);
        emu.injectCommand(6006, 'start');
        const menu = await emu.waitFor((c) => c.method === 'sendMessage' && c.params.chat_id === 6006, 5000);
        assert.match(String(menu.params.text), /Привет/);
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal((await done).code, 0);
      assert.match(stdout(), /"ignored":\["ADMIN_TOKEN","DATABASE_URL"\]/);
      assert.doesNotMatch(stdout(), /must-not-leak/);
    });
  });
});
