import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { APPS_BY_OS, DEEP_LINKS } from '../../infra/subscription/deep-links';
import { insertNode, insertSubscription, insertTariff, insertUser, uniqueTelegramId } from './fixtures';
import { type ApiHarness, startApi } from './harness';

const run = promisify(execFile);
const DAY = 86_400_000;
/** Screenshots stay here after the run (gitignored): what the page looked like, for a human to check. */
const ARTIFACTS = path.resolve(__dirname, '..', '..', '.data', 'test-artifacts');

function chromiumBin(): string {
  for (const bin of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (existsSync(bin)) return bin;
  }
  throw new Error('headless Chromium is needed: apt-get install chromium (.ci/run does)');
}

/** Debian's chromium, headless, in a throwaway profile; root needs --no-sandbox. */
async function chromium(args: string[], language: string): Promise<string> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'vpn-chromium-'));
  try {
    const { stdout } = await run(
      chromiumBin(),
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-background-networking',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--accept-lang=${language}`,
        '--window-size=420,1400',
        ...args,
      ],
      { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe('subscription page in headless Chromium', function () {
  this.timeout(5 * 60_000);
  let api: ApiHarness;
  let token: string;

  before(async () => {
    api = await startApi({ env: { BOT_USERNAME: 'my_vpn_bot' } });
    const node = await insertNode(api.orm, 'nl-1');
    const tariff = await insertTariff(api.orm);
    const user = await insertUser(api.orm, uniqueTelegramId());
    const sub = await insertSubscription(api.orm, {
      userId: user.id,
      tariffId: tariff.id,
      nodeId: node.id,
      expiresAt: new Date(Date.now() + 10 * DAY - 60_000),
    });
    token = sub.subscription_token;
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(() => api.close());

  const pageUrl = () => `${api.url}/sub/${token}`;
  const subscriptionUrl = () => `https://vpn.example/sub/${token}`;

  it('shows the status, days left, traffic and devices, and a deep link for every client', async () => {
    const dom = await chromium(['--dump-dom', pageUrl()], 'ru-RU,ru');
    assert.match(dom, /<html lang="ru">/);
    assert.match(dom, /id="status"[^>]*data-state="active"[^>]*>Активна</);
    assert.match(dom, /id="days-left">Осталось 10 дней</);
    assert.match(dom, /id="traffic">3\.00 KiB \/ без ограничений</);
    assert.match(dom, /id="devices">1</);
    const url = subscriptionUrl();
    for (const [app, link] of Object.entries(DEEP_LINKS)) {
      const href = link(url, 'VPN · Month').replace(/&/g, '&amp;');
      assert.ok(dom.includes(`href="${href}"`), `${app}: ${href}`);
    }
    for (const apps of Object.values(APPS_BY_OS))
      for (const app of apps) assert.ok(dom.includes(`data-app="${app}"`));
    assert.match(dom, /id="renew" href="https:\/\/t\.me\/my_vpn_bot"/);
    assert.match(dom, /id="support" href="https:\/\/t\.me\/support"/);
    assert.ok(dom.includes(`id="sub-url" readonly="" value="${url}"`));
  });

  it('the QR in the rendered screenshot decodes (zbarimg) to the subscription URL', async () => {
    const shot = path.join(ARTIFACTS, 'sub-page-en.png');
    rmSync(shot, { force: true });
    await chromium([`--screenshot=${shot}`, pageUrl()], 'en-US,en');
    assert.ok(existsSync(shot), 'Chromium wrote the screenshot');
    const { stdout } = await run('zbarimg', ['--quiet', '--raw', '-Sqrcode.enable', shot], {
      timeout: 30_000,
    });
    assert.deepEqual(stdout.trim().split('\n'), [subscriptionUrl()]);
  });
});
