import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { accessViewFromRow } from '../../../infra/subscription/access-view';
import type { SubscriptionFormat } from '../../../infra/subscription/choose-format';
import {
  deviceLimitPlaceholder,
  expiredPlaceholder,
  revokedPlaceholder,
  suspendedPlaceholder,
} from '../../../infra/subscription/placeholder';
import { renderSubscription } from '../../../infra/subscription/render';
import { newSubscriptionToken } from '../../../infra/subscription/token';
import type { BlockedReason, SubscriptionNode } from '../../../infra/subscription/types';
import { parseVlessLink } from '../../../infra/xray/link';
import { newSubscriptionToken as legacyImport } from '../../../infra/xray/subscription';
import { LINKS, view } from './fixtures';
import type { AccessRow } from '../../../infra/db/rows';

// biome-ignore lint/suspicious/noExplicitAny: parsed client configs are inspected freely
type Json = any;

/** The server names a client would list, per format. */
async function entryNames(
  format: Exclude<SubscriptionFormat, 'html'>,
  node: SubscriptionNode,
): Promise<string[]> {
  const { body } = await renderSubscription(format, view({ state: 'expired', nodes: [node] }), LINKS, {
    updateIntervalHours: 12,
    language: 'en',
    nonce: 'x',
  });
  switch (format) {
    case 'base64':
      return Buffer.from(body, 'base64')
        .toString()
        .split('\n')
        .map((l) => parseVlessLink(l).remark);
    case 'singbox':
      return JSON.parse(body)
        .outbounds.filter((o: Json) => o.type === 'vless')
        .map((o: Json) => o.tag);
    case 'clash':
      return parseYaml(body).proxies.map((p: Json) => p.name);
    case 'xray':
      return JSON.parse(body).map((c: Json) => c.remarks);
  }
}

describe('subscription placeholders (expired, revoked, over quota, over device limit)', () => {
  const cases: Array<[BlockedReason, SubscriptionNode, RegExp]> = [
    ['expired', expiredPlaceholder('en', LINKS.renewUrl), /Subscription expired — renew: t\.me\/my_vpn_bot/],
    ['revoked', revokedPlaceholder('en', LINKS.renewUrl), /Access revoked — renew: t\.me\/my_vpn_bot/],
    [
      'suspended',
      suspendedPlaceholder('en', LINKS.renewUrl),
      /Traffic limit reached — renew: t\.me\/my_vpn_bot/,
    ],
    [
      'device_limit',
      deviceLimitPlaceholder('en', LINKS.renewUrl),
      /Too many devices — renew: t\.me\/my_vpn_bot/,
    ],
  ];
  for (const [reason, node, name] of cases) {
    for (const format of ['base64', 'singbox', 'clash', 'xray'] as const) {
      it(`${reason}: ${format} has exactly one entry naming it and where to renew`, async () => {
        const names = await entryNames(format, node);
        assert.equal(names.length, 1);
        assert.match(names[0], name);
      });
    }
  }

  it('speaks Russian too, and points to support when there is no bot link', () => {
    assert.equal(
      expiredPlaceholder('ru', 'https://t.me/my_vpn_bot').name,
      '⛔ Подписка закончилась — продлить: t.me/my_vpn_bot',
    );
    assert.equal(suspendedPlaceholder('ru').name, '⛔ Трафик исчерпан');
    assert.equal(deviceLimitPlaceholder('ru').name, '⛔ Слишком много устройств');
  });

  it('a placeholder cannot carry traffic: unroutable address, all-zero uuid', () => {
    const p = expiredPlaceholder('en');
    assert.deepEqual([p.host, p.port, p.uuid], ['0.0.0.0', 1, '00000000-0000-0000-0000-000000000000']);
  });

  describe('from a subscription row', () => {
    const now = new Date('2027-01-01T00:00:00Z');
    // As node-postgres returns an ACCESS_SELECT row: timestamptz as Date, bigint as string.
    const row: AccessRow = {
      id: '6f1d7c3e-2b1a-4c5d-9e8f-0a1b2c3d4e5f',
      subscription_token: 'tok',
      status: 'active',
      expires_at: new Date('2027-01-10T00:00:00Z'),
      node_name: 'nl-1',
      telegram_id: '42',
      host: 'nl1.vpn.example',
      port: 443,
      client_uuid: '0b1e4c0e-8a4e-4d4b-9a53-1e3c7c1b2a11',
      reality_server_name: 'www.example.com',
      reality_public_key: 'pbk',
      reality_short_id: 'abcd',
      upload_bytes: '10',
      download_bytes: '20',
      period_upload_bytes: '10',
      period_download_bytes: '20',
      traffic_extra_bytes: '0',
      suspended_at: null,
      traffic_limit_bytes: null,
      device_limit: null,
      language: 'en',
      added_devices: 0,
      tariff_name: 'Month',
    };
    const opts = { now, language: 'en' as const, renewAt: 'https://t.me/my_vpn_bot' };

    it('active: the node, unlimited traffic, the paid end', () => {
      const v = accessViewFromRow(row, opts);
      assert.equal(v.state, 'active');
      assert.deepEqual(
        v.nodes.map((n) => [n.name, n.uuid]),
        [['nl-1-42', row.client_uuid]],
      );
      assert.deepEqual([v.totalBytes, v.uploadBytes, v.downloadBytes, v.devices], [0, 10, 20, 1]);
      assert.equal(v.expireAt.toISOString(), '2027-01-10T00:00:00.000Z');
    });

    it('past its end: expired placeholder; ended early (refund): revoked, expiring now', () => {
      const expired = accessViewFromRow(
        { ...row, status: 'expired', expires_at: new Date('2026-12-01T00:00:00Z') },
        opts,
      );
      assert.equal(expired.state, 'expired');
      assert.match(expired.nodes[0].name, /Subscription expired/);
      assert.equal(expired.expireAt.toISOString(), '2026-12-01T00:00:00.000Z');
      const refunded = accessViewFromRow({ ...row, status: 'refunded' }, opts);
      assert.equal(refunded.state, 'revoked');
      assert.ok(refunded.expireAt < now, 'clients see it ended');
    });
  });

  it('tokens are unguessable and URL-safe (>= 128 bits), importable from the old path too', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newSubscriptionToken()));
    assert.equal(tokens.size, 1000);
    for (const t of tokens) assert.match(t, /^[A-Za-z0-9_-]{32}$/);
    assert.match(legacyImport(), /^[A-Za-z0-9_-]{32}$/);
  });
});
