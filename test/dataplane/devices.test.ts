import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createNodeActivities } from '../../activities/nodes';
import { type ApiHarness, startApi } from '../api/harness';
import { freshDatabase } from '../support/services';
import { killAllStarted } from '../support/xray';
import { DataPlane } from './fixture';

// Devices (issue 12, item 2) on a real node with real Xray clients: own key per device, the limit, revoke.
describe('devices: one key per device on a real node', function () {
  this.timeout(90_000);
  let api: ApiHarness;
  let plane: DataPlane;
  let db: Awaited<ReturnType<typeof freshDatabase>>;

  before(async () => {
    db = await freshDatabase();
    plane = await new DataPlane(db.orm).start(1);
    api = await startApi({ db, env: { PURCHASES_TASK_QUEUE: plane.queue, NODE_HEALTH_INTERVAL: '1h' } });
  });
  after(async () => {
    await api?.close();
    await plane?.stop();
    await killAllStarted();
  });

  it('adds devices with their own working keys up to the tariff limit, then 409 device_limit', async () => {
    const node = plane.nodes[0];
    const user = await plane.activeAccess(node, { deviceLimit: 3 });
    const base = `/api/v1/subscriptions/${user.telegramId}/devices`;

    const laptop = await api.call('POST', base, { body: { name: 'laptop' } });
    assert.equal(laptop.status, 201, laptop.text);
    assert.ok(laptop.body.qr_png_base64.length > 100);
    const phone = await api.call('POST', base, { body: {} });
    assert.equal(phone.status, 201, phone.text);
    const third = await api.call('POST', base, { body: { name: 'tv' } });
    assert.equal(third.status, 409, 'the own key + 2 devices = the limit of 3');
    assert.equal(third.body.error, 'device_limit');

    const uuids = [laptop, phone].map((r) => new URL(r.body.vless_url).username);
    assert.notEqual(uuids[0], uuids[1], 'each device has its own uuid');
    assert.ok(!uuids.includes(user.clientUuid), 'and none reuses the access key');
    assert.equal(await plane.works(laptop.body.vless_url), true, 'the laptop key carries traffic');
    assert.equal(await plane.works(phone.body.vless_url), true, 'the phone key carries traffic');

    const listed = await api.call('GET', base);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.devices.map((d: { name: string; primary: boolean }) => [d.name, d.primary]),
      [
        ['main', true],
        ['laptop', false],
        ['device 3', false],
      ],
    );
    assert.equal(listed.body.device_limit, 3);

    const status = await api.call('GET', `/api/v1/subscriptions/${user.telegramId}/status`);
    assert.deepEqual([status.body.devices, status.body.device_limit], [3, 3]);

    // Removing one frees a slot and its key stops working; the other keeps working.
    const del = await api.call('DELETE', `${base}/${laptop.body.device_id}`);
    assert.deepEqual(del.body, { device_id: laptop.body.device_id, removed: true, applied: true });
    assert.equal(await plane.works(laptop.body.vless_url), false, 'a removed device is cut off');
    assert.equal(await plane.works(phone.body.vless_url), true);
    assert.equal((await api.call('POST', base, { body: { name: 'tv' } })).status, 201);

    assert.equal((await api.call('DELETE', `${base}/${laptop.body.device_id}`)).status, 404);
    assert.equal((await api.call('DELETE', `${base}/${user.subscriptionId}`)).body.error, 'primary_device');
    assert.equal((await api.call('DELETE', `${base}/${randomUUID()}`)).status, 404);
  });

  it('never lets concurrent adds pass the limit', async () => {
    const user = await plane.activeAccess(plane.nodes[0], { deviceLimit: 2 });
    const base = `/api/v1/subscriptions/${user.telegramId}/devices`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => api.call('POST', base, { body: {} })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409, 409]);
  });

  it('a revoke takes every device of the access off the node', async () => {
    const node = plane.nodes[0];
    const user = await plane.activeAccess(node);
    const base = `/api/v1/subscriptions/${user.telegramId}/devices`;
    const keys = [];
    for (const name of ['a', 'b'])
      keys.push((await api.call('POST', base, { body: { name } })).body.vless_url);
    // The lifetime's revoke step: RemoveClient of the access's own email.
    await createNodeActivities({ orm: api.orm }).removeClient({
      nodeId: node.id,
      email: user.subscriptionId,
    });
    const devices = await api.orm.em
      .getConnection()
      .execute(`select client_email from devices where subscription_id = ?`, [user.subscriptionId]);
    assert.equal(devices.length, 2);
    const left = await node.agent.emails();
    for (const email of [user.subscriptionId, ...devices.map((d) => String(d.client_email))])
      assert.ok(!left.includes(email), `${email} is off the node`);
    for (const key of keys)
      assert.equal(await plane.works(key), false, 'a device key of a revoked access is dead');
  });

  it('an app sending x-hwid to /sub registers once and gets its own key; past the limit, a placeholder', async () => {
    const user = await plane.activeAccess(plane.nodes[0], { deviceLimit: 2 });
    const fetchSub = async (hwid?: string) => {
      const res = await api.call('GET', `/sub/${user.token}?format=base64`, {
        token: null,
        headers: { 'user-agent': 'Happ/3.1', ...(hwid ? { 'x-hwid': hwid } : {}) },
      });
      assert.equal(res.status, 200, res.text);
      return Buffer.from(res.text, 'base64').toString().trim();
    };
    const first = await fetchSub('hw-phone-1');
    const uuid = new URL(first).username;
    assert.notEqual(uuid, user.clientUuid, 'the hwid device has its own key');
    assert.equal(await plane.works(first), true, 'and it carries traffic');
    assert.equal(await fetchSub('hw-phone-1'), first, 'the same hardware gets the same key again');
    const status = await api.call('GET', `/api/v1/subscriptions/${user.telegramId}/status`);
    assert.equal(status.body.devices, 2);

    const third = await fetchSub('hw-tablet-2');
    assert.match(third, /00000000-0000-0000-0000-000000000000@0\.0\.0\.0:1/, 'one placeholder entry');
    assert.match(decodeURIComponent(third), /Too many devices/);
    assert.equal(new URL(await fetchSub()).username, user.clientUuid, 'no x-hwid: the access key, as before');

    // With DEVICE_HWID_REQUIRED an app that sends none gets a placeholder naming the problem.
    const strict = await startApi({
      db,
      env: { PURCHASES_TASK_QUEUE: plane.queue, DEVICE_HWID_REQUIRED: 'true' },
    });
    try {
      const res = await strict.call('GET', `/sub/${user.token}?format=base64`, { token: null });
      assert.match(decodeURIComponent(Buffer.from(res.text, 'base64').toString()), /sends no HWID/);
    } finally {
      await strict.close();
    }
  });

  it('answers 404 without an active access and 422 for a bad name', async () => {
    const tg = 600_000_000 + Math.floor(Math.random() * 1_000_000);
    await api.orm.em.getConnection().execute(`insert into users (telegram_id) values (?)`, [tg]);
    assert.equal((await api.call('POST', `/api/v1/subscriptions/${tg}/devices`, { body: {} })).status, 404);
    assert.equal((await api.call('GET', `/api/v1/subscriptions/${tg}/devices`)).status, 404);
    const user = await plane.activeAccess(plane.nodes[0]);
    const long = await api.call('POST', `/api/v1/subscriptions/${user.telegramId}/devices`, {
      body: { name: 'x'.repeat(65) },
    });
    assert.equal(long.status, 422);
  });
});
