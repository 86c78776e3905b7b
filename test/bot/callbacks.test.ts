import assert from 'node:assert/strict';
import {
  type CallbackAction,
  decodeCallback,
  encodeCallback,
  MAX_CALLBACK_BYTES,
  notificationCallbacks,
} from '../../infra/telegram/callbacks';

describe('infra/telegram/callbacks', () => {
  const uuid = '8f14e45f-ceea-467a-9f1b-6ad4c7e2b1a3';
  const actions: CallbackAction[] = [
    { type: 'menu' },
    { type: 'tariffs' },
    { type: 'renew' },
    { type: 'tariff', tariffId: uuid },
    { type: 'pay', method: 'card', tariffId: uuid },
    { type: 'pay', method: 'stars', tariffId: '42' },
    { type: 'retry', paymentId: uuid },
    { type: 'subscription' },
    { type: 'guides' },
    { type: 'guide', os: 'macos' },
    { type: 'support' },
    { type: 'admin', view: 'stuck' },
    { type: 'retry', paymentId: uuid, keep: true },
    { type: 'guides', keep: true },
    { type: 'referral' },
    { type: 'myGifts' },
    { type: 'tariff', tariffId: '7', keep: true },
    { type: 'changePlan', keep: true },
    { type: 'changeTo', tariffId: '42' },
    { type: 'payAutoRenew', tariffId: '42' },
    { type: 'payAutoRenew', tariffId: '42', method: 'stars' },
    { type: 'devices', op: 'list', keep: true },
    { type: 'devices', op: 'add' },
    { type: 'devices', op: 'remove_yes', deviceId: uuid },
    { type: 'devices', op: 'rename', deviceId: uuid },
    { type: 'adminBroadcast', op: 'list' },
    { type: 'adminBroadcast', op: 'cancel_yes', arg: uuid },
    { type: 'adminBroadcast', op: 'seg', arg: 'expired-30' },
    { type: 'adminNode', op: 'drain_yes', nodeId: uuid },
    { type: 'adminNode', op: 'list' },
  ];

  it('a device button names a device by uuid exactly when its op needs one', () => {
    assert.deepEqual(decodeCallback(`dv:c:${uuid}`), { type: 'devices', op: 'card', deviceId: uuid });
    for (const data of ['dv:c', 'dv:l:' + uuid, 'dv:x:42', 'dv:q', `dv:y:${uuid};drop`])
      assert.equal(decodeCallback(data), null, data);
  });

  it('a plan-change button names a numeric tariff id; anything else is a stale or forged button', () => {
    assert.deepEqual(decodeCallback('cg:7'), { type: 'changeTo', tariffId: '7' });
    assert.equal(decodeCallback('cg:7;drop'), null);
    assert.equal(decodeCallback('cp:1'), null);
  });

  it('round-trips every action within 64 bytes, even with UUID ids', () => {
    for (const action of actions) {
      const data = encodeCallback(action);
      assert.ok(Buffer.byteLength(data) <= MAX_CALLBACK_BYTES, data);
      assert.deepEqual(decodeCallback(data), action);
    }
  });

  it('admin broadcast and node buttons: a known op, a short plain arg, a node id that is a UUID', () => {
    assert.equal(decodeCallback('bc:99'), null);
    assert.equal(decodeCallback('bc:0:a b'), null);
    assert.equal(decodeCallback('nd:1:not-a-node'), null);
    assert.equal(decodeCallback('nd:x'), null);
  });

  it('refuses to encode data Telegram would reject', () => {
    assert.throws(() => encodeCallback({ type: 'retry', paymentId: 'x'.repeat(62) }), /Telegram allows 64/);
    assert.throws(() => encodeCallback({ type: 'tariff', tariffId: 'я'.repeat(31) }), /bytes/); // 62 bytes + "tr:"
  });

  it('decodes anything it did not produce to null', () => {
    for (const data of [undefined, '', 'x', 'tr:', 'g:z', 'a:q', 'zz:1', 'm:extra', '+', '++m']) {
      assert.equal(decodeCallback(data), null, data);
    }
  });

  it('gives notifications buttons that keep the notification in the chat', () => {
    assert.equal(notificationCallbacks.renew(), '+rn');
    assert.deepEqual(decodeCallback(notificationCallbacks.retry(uuid)), {
      type: 'retry',
      paymentId: uuid,
      keep: true,
    });
    assert.deepEqual(decodeCallback(notificationCallbacks.setupGuide()), { type: 'guides', keep: true });
  });
});
