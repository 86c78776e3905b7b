import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RunningAgent, startAgent } from '../../support/agent';
import {
  type Closeable,
  killAllStarted,
  startTlsTarget,
  startXrayServer,
  waitFor,
  type XrayServer,
} from '../../support/xray';

// The agent's HTTP contract against a real Xray: auth, validation, idempotency, Xray outages.
describe('node agent HTTP API', function () {
  this.timeout(60_000);
  let tlsTarget: Closeable;
  let xray: XrayServer;
  let agent: RunningAgent;

  before(async () => {
    tlsTarget = await startTlsTarget();
    xray = await startXrayServer({ targetPort: tlsTarget.port });
    agent = await startAgent(xray);
  });

  after(async () => {
    await agent?.stop();
    await xray?.stop();
    await tlsTarget?.close();
    await killAllStarted();
  });

  const xrayUsers = async () => {
    const h = await agent.call('GET', '/health');
    return h.json.xray_users as number;
  };

  it('answers 401 without the right bearer token, on every route', async () => {
    for (const [method, p] of [
      ['GET', '/clients'],
      ['PUT', '/clients/x'],
      ['DELETE', '/clients/x'],
      ['GET', '/stats'],
      ['GET', '/health'],
    ]) {
      const wrong = await agent.call(method, p, undefined, 'not-the-token');
      assert.equal(wrong.status, 401, `${method} ${p}`);
      assert.deepEqual(wrong.json, { error: 'unauthorized' });
    }
    const none = await fetch(`${agent.url}/clients`);
    assert.equal(none.status, 401);
  });

  it('answers 400 with a reason for bad input', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['PUT', '/clients/bad%20email', { uuid: randomUUID() }, /email/],
      ['PUT', '/clients/a%3E%3E%3Eb', { uuid: randomUUID() }, /email/],
      ['PUT', '/clients/ok', { uuid: 'not-a-uuid' }, /uuid/],
      ['PUT', '/clients/ok', {}, /Required|uuid/],
      ['PUT', '/clients/ok', { uuid: randomUUID(), flow: 'xtls-rprx-direct' }, /flow|Invalid enum/],
      ['PUT', '/clients/ok', '{"uuid": ', /JSON|Unexpected|Expected/],
      ['GET', '/stats?reset=maybe', undefined, /reset/],
    ];
    for (const [method, p, body, reason] of cases) {
      const r = await agent.call(method, p, body);
      assert.equal(r.status, 400, `${method} ${p} ${JSON.stringify(body)}`);
      assert.equal(r.json.error, 'bad_request');
      assert.match(r.json.message, reason);
    }
  });

  it('PUT and DELETE are idempotent; a new uuid replaces the old one', async () => {
    const uuid = randomUUID();
    const first = await agent.call('PUT', '/clients/bob@example.com', { uuid, flow: 'xtls-rprx-vision' });
    assert.equal(first.status, 201);
    assert.equal(first.json.created, true);
    const again = await agent.call('PUT', '/clients/bob@example.com', { uuid, flow: 'xtls-rprx-vision' });
    assert.equal(again.status, 200);
    assert.deepEqual([again.json.created, again.json.changed], [false, false]);

    const uuid2 = randomUUID();
    const changed = await agent.call('PUT', '/clients/bob@example.com', { uuid: uuid2 });
    assert.deepEqual([changed.status, changed.json.changed], [200, true]);
    const list = await agent.call('GET', '/clients');
    assert.deepEqual(list.json.clients, [
      { email: 'bob@example.com', uuid: uuid2, flow: 'xtls-rprx-vision' },
    ]);
    assert.equal(await xrayUsers(), 1);

    assert.deepEqual((await agent.call('DELETE', '/clients/bob@example.com')).json.removed, true);
    const twice = await agent.call('DELETE', '/clients/bob@example.com');
    assert.deepEqual(twice, { status: 200, json: { email: 'bob@example.com', removed: false } });
    assert.deepEqual((await agent.call('GET', '/clients')).json.clients, []);
    assert.equal(await xrayUsers(), 0);
  });

  it('persists the client list on disk, written atomically', async () => {
    await agent.call('PUT', '/clients/disk', { uuid: randomUUID() });
    const state = JSON.parse(readFileSync(path.join(agent.dataDir, 'state.json'), 'utf8'));
    assert.ok(state.clients.disk);
    await agent.call('DELETE', '/clients/disk');
  });

  it('while Xray is down: 503 on PUT and /health, the change is kept and applied when Xray is back', async () => {
    await xray.kill();
    const uuid = randomUUID();
    const put = await agent.call('PUT', '/clients/while-down', { uuid });
    assert.equal(put.status, 503);
    assert.equal(put.json.error, 'xray_unavailable');
    const health = await agent.call('GET', '/health');
    assert.equal(health.status, 503);
    assert.equal(health.json.xray_reachable, false);
    assert.deepEqual((await agent.call('GET', '/clients')).json.clients, [
      { email: 'while-down', uuid, flow: 'xtls-rprx-vision' },
    ]);

    await xray.start();
    await waitFor('the reconciler to apply the stored client', async () => (await xrayUsers()) === 1);
    assert.equal((await agent.call('GET', '/health')).json.users, 1);
  });

  it('answers 404 as JSON for unknown routes', async () => {
    const r = await agent.call('GET', '/nope');
    assert.deepEqual(r, { status: 404, json: { error: 'not_found' } });
  });
});
