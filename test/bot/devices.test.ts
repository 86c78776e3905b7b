import assert from 'node:assert/strict';
import { createApiClient } from '../../bot/api-client';
import { createBot } from '../../bot/create-bot';
import type { DispatchingBot } from '../../bot/dispatching-bot';
import { createLogger } from '../../infra/logger';
import { API_TOKEN, type ApiHarness, startApi } from '../api/harness';
import { DataPlane } from '../dataplane/fixture';
import { freshDatabase } from '../support/services';
import {
  type RecordedCall,
  startTelegramEmulator,
  type TelegramEmulator,
} from '../support/telegram-emulator';
import { killAllStarted } from '../support/xray';

// Issue 12, devices in the bot: a user manages their devices from "My subscription" → "Devices", and what
// they do there is what the real node enforces, checked with real Xray clients. Telegram ids 954_xxx_xxx.
describe('bot: device screens on a real node', function () {
  this.timeout(120_000);
  const TG = 954_000_000 + Math.floor(Math.random() * 900_000);
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let plane: DataPlane;
  let api: ApiHarness;
  let emu: TelegramEmulator;
  let bot: DispatchingBot;
  let polling: Promise<void>;

  before(async () => {
    db = await freshDatabase();
    plane = await new DataPlane(db.orm).start(1);
    api = await startApi({ db, env: { PURCHASES_TASK_QUEUE: plane.queue, NODE_HEALTH_INTERVAL: '1h' } });
    emu = await startTelegramEmulator();
    bot = createBot({
      token: emu.token,
      apiRoot: emu.url,
      api: createApiClient({ baseUrl: api.url, apiToken: API_TOKEN }),
      supportUrl: 'https://t.me/vpn_support_devices',
      adminIds: [],
      logger: createLogger('devices-bot-test'),
    });
    polling = bot.launch();
    await emu.waitForPolling(10_000);
  });
  after(async () => {
    bot?.stop('test over');
    await polling?.catch(() => undefined);
    await emu?.close();
    await api?.close();
    await plane?.stop();
    await killAllStarted();
  });

  const profile = { first_name: 'Dana', language_code: 'en' };
  const textOf = (c: RecordedCall) => String(c.params.text ?? c.params.caption ?? '');
  /** The key in a screen's HTML (`<code>vless://…</code>`), unescaped. */
  const keyIn = (c: RecordedCall) => {
    const raw = /vless:\/\/[^<\s]+/.exec(textOf(c))?.[0];
    assert.ok(raw, `a key in: ${textOf(c)}`);
    return raw.replace(/&amp;/g, '&');
  };
  const next = (chatId: number, since: number, text: RegExp, methods = ['sendMessage', 'editMessageText']) =>
    emu.waitFor(
      (c, i) =>
        i >= since &&
        !c.error &&
        methods.includes(c.method) &&
        Number(c.params.chat_id) === chatId &&
        text.test(textOf(c)),
      20_000,
    );
  const tap = async (chatId: number, button: string | RegExp, expect: RegExp) => {
    const since = emu.calls().length;
    emu.tapButton(chatId, button);
    return next(chatId, since, expect);
  };
  const reply = async (chatId: number, text: string, expect: RegExp, methods?: string[]) => {
    const since = emu.calls().length;
    emu.injectReply(chatId, text, undefined, profile);
    return next(chatId, since, expect, methods);
  };

  it('device limit 2: the own key and a device added in the bot carry traffic at once; a third is refused naming the limit; removing it cuts only it', async () => {
    const user = await plane.activeAccess(plane.nodes[0], { deviceLimit: 2, telegramId: TG });
    const since = emu.calls().length;
    emu.injectMessage(TG, 'hi', profile);
    await next(TG, since, /Main menu|menu/i);
    const sub = await tap(TG, '🔑 My subscription', /Your subscription is active/);
    const mainKey = keyIn(sub);
    assert.equal(new URL(mainKey).username, user.clientUuid, 'My subscription shows the access key');

    const list = await tap(TG, '📱 Devices', /Your devices<\/b>: 1 of 2/);
    assert.match(textOf(list), /1\. <b>main<\/b> — the subscription’s own key/);

    // Add device → the name prompt (force reply) → the typed name → the QR and the device's own key.
    const prompt = await tap(TG, '➕ Add device', /Send a name for the new device/);
    assert.equal((prompt.params.reply_markup as { force_reply?: boolean }).force_reply, true);
    const sinceAdd = emu.calls().length;
    const added = await reply(TG, 'Laptop', /Device “Laptop” added/);
    const qr = await next(TG, sinceAdd, /The key of “Laptop”/, ['sendPhoto']);
    assert.ok(qr, 'the QR code came as a photo');
    const laptopKey = keyIn(added);
    assert.notEqual(new URL(laptopKey).username, user.clientUuid, 'the device has its own uuid');

    // Both keys at the same time, through two real Xray clients running side by side.
    assert.deepEqual(
      await Promise.all([plane.works(mainKey), plane.works(laptopKey)]),
      [true, true],
      'both devices carry traffic at once',
    );
    const onNode = await plane.nodes[0].agent.emails();
    assert.equal(onNode.filter((e) => e !== user.subscriptionId).length, 1, 'one more client on the node');

    // The third: refused at once, naming the limit and offering an upgrade.
    const full = await tap(TG, '⬅️ Devices', /Your devices<\/b>: 2 of 2/);
    assert.match(textOf(full), /2\. <b>Laptop<\/b>/);
    const refused = await tap(TG, '➕ Add device', /Your plan allows 2 devices/);
    assert.match(textOf(refused), /upgrade to a plan with more devices/);
    assert.ok(
      JSON.stringify(refused.params.reply_markup).includes('⬆️ Upgrade the plan'),
      'the refusal offers an upgrade',
    );
    const rows = await api.orm.em
      .getConnection()
      .execute(`select count(*)::int as n from devices where subscription_id = ? and removed_at is null`, [
        user.subscriptionId,
      ]);
    assert.equal(rows[0].n, 1, 'nothing was added past the limit');

    // Rename: a typed name; the key stays the same.
    await tap(TG, '⬅️ Devices', /Your devices/);
    await tap(TG, '📱 Laptop', /<b>Laptop<\/b>\nAdded/);
    await tap(TG, '✏️ Rename', /Send the new name for “Laptop”/);
    await reply(TG, 'Work laptop', /Renamed to “Work laptop”/);
    const listed = await api.call('GET', `/api/v1/subscriptions/${TG}/devices`);
    assert.deepEqual(
      listed.body.devices.map((d: { name: string }) => d.name),
      ['main', 'Work laptop'],
    );
    assert.equal(await plane.works(laptopKey), true, 'a renamed device keeps its key');

    // Remove, after a confirm: only that device's tunnel stops.
    await tap(TG, '⬅️ Devices', /Your devices/);
    await tap(TG, '📱 Work laptop', /<b>Work laptop<\/b>/);
    await tap(TG, '🗑 Remove', /Remove “Work laptop”\? Its key stops working/);
    await tap(TG, '🗑 Yes, remove', /“Work laptop” removed: its key no longer works/);
    assert.deepEqual(
      await Promise.all([plane.works(mainKey), plane.works(laptopKey)]),
      [true, false],
      'the removed device is cut off, the own key still works',
    );
    // With the slot free again, adding works (no name given: the default one).
    await tap(TG, '⬅️ Devices', /Your devices<\/b>: 1 of 2/);
    await tap(TG, '➕ Add device', /Send a name for the new device/);
    await reply(TG, '-', /Device “device \d” added/);
  });

  it('in Russian, and without an access the screen says so; a name too long is refused in words', async () => {
    const ru = { first_name: 'Вера', language_code: 'ru' };
    const tg = TG + 1;
    let since = emu.calls().length;
    emu.injectMessage(tg, 'привет', ru);
    await next(tg, since, /.+/);
    since = emu.calls().length;
    emu.injectCallback(tg, 'dv:l');
    await next(tg, since, /У вас нет активной подписки/);

    await plane.activeAccess(plane.nodes[0], { deviceLimit: null, telegramId: tg + 1 });
    since = emu.calls().length;
    emu.injectMessage(tg + 1, 'привет', ru);
    await next(tg + 1, since, /.+/);
    since = emu.calls().length;
    emu.injectCallback(tg + 1, 'dv:l');
    await next(tg + 1, since, /Ваши устройства<\/b>: 1 \(без ограничений\)/);
    await tap(tg + 1, '➕ Добавить устройство', /Пришлите имя нового устройства/);
    since = emu.calls().length;
    emu.injectReply(tg + 1, 'x'.repeat(65), undefined, ru);
    await next(tg + 1, since, /от 1 до 64 символов/);
    const rows = await api.call('GET', `/api/v1/subscriptions/${tg + 1}/devices`);
    assert.equal(rows.body.devices.length, 1, 'nothing added');
  });

  it('an app registered through the subscription URL shows with the OS and model it sent', async () => {
    const tg = TG + 6;
    const user = await plane.activeAccess(plane.nodes[0], { deviceLimit: null, telegramId: tg });
    const sub = await api.call('GET', `/sub/${user.token}?format=base64`, {
      token: null,
      headers: {
        'user-agent': 'Happ/3.1',
        'x-hwid': 'hw-954-phone',
        'x-device-os': 'iOS 18.1',
        'x-device-model': 'iPhone 15 Pro<script>',
      },
    });
    assert.equal(sub.status, 200, sub.text);
    const listed = await api.call('GET', `/api/v1/subscriptions/${tg}/devices`);
    assert.deepEqual(
      listed.body.devices.map((d: { os: string | null; model: string | null }) => [d.os, d.model]),
      [
        [null, null],
        ['iOS 18.1', 'iPhone 15 Proscript'],
      ],
      'kept as sent, minus what is not printable text',
    );
    let since = emu.calls().length;
    emu.injectMessage(tg, 'hi', profile);
    await next(tg, since, /menu/i);
    since = emu.calls().length;
    emu.injectCallback(tg, 'dv:l');
    const list = await next(tg, since, /Your devices<\/b>: 2 \(no limit\)/);
    assert.match(textOf(list), /2\. <b>Happ\/3\.1<\/b> · iOS 18\.1 · iPhone 15 Proscript — added by the app/);
    const card = await tap(tg, '📱 Happ/3.1', /Registered by the app/);
    assert.match(textOf(card), /<b>Happ\/3\.1<\/b> · iOS 18\.1 · iPhone 15 Proscript\nAdded /);
  });

  it('PATCH renames only a live device of the user (404 otherwise, 409 for the own key, 422 for a bad name)', async () => {
    const user = await plane.activeAccess(plane.nodes[0], { deviceLimit: 3, telegramId: TG + 3 });
    const base = `/api/v1/subscriptions/${TG + 3}/devices`;
    const added = await api.call('POST', base, { body: { name: 'tv' } });
    assert.equal(added.status, 201, added.text);
    const id = added.body.device_id;
    const ok = await api.call('PATCH', `${base}/${id}`, { body: { name: '  Living room TV ' } });
    assert.deepEqual([ok.status, ok.body], [200, { device_id: id, name: 'Living room TV' }]);
    assert.equal((await api.call('PATCH', `${base}/${id}`, { body: { name: '' } })).status, 422);
    assert.equal((await api.call('PATCH', `${base}/${id}`, { body: {} })).status, 422);
    const own = await api.call('PATCH', `${base}/${user.subscriptionId}`, { body: { name: 'x' } });
    assert.deepEqual([own.status, own.body.error], [409, 'primary_device']);
    // Someone else's device is not found for this user.
    const other = await plane.activeAccess(plane.nodes[0], { deviceLimit: 3, telegramId: TG + 4 });
    assert.ok(other);
    const foreign = await api.call('PATCH', `/api/v1/subscriptions/${TG + 4}/devices/${id}`, {
      body: { name: 'mine now' },
    });
    assert.deepEqual([foreign.status, foreign.body.error], [404, 'device_not_found']);
    await api.call('DELETE', `${base}/${id}`);
    assert.equal((await api.call('PATCH', `${base}/${id}`, { body: { name: 'again' } })).status, 404);
    const doc = await api.call('GET', '/openapi.json', { token: null });
    assert.ok(doc.body.paths['/api/v1/subscriptions/{telegram_id}/devices/{device_id}'].patch);
  });
});
