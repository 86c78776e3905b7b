import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { renderBase64 } from '../../../infra/subscription/base64';
import { buildClashConfig, renderClash } from '../../../infra/subscription/clash';
import { subscriptionHeaders } from '../../../infra/subscription/headers';
import { renderSubscription } from '../../../infra/subscription/render';
import { renderSingBox } from '../../../infra/subscription/singbox';
import { renderXrayJson } from '../../../infra/subscription/xray-json';
import { parseVlessLink } from '../../../infra/xray/link';
import { LINKS, NODE, NODE_2, view } from './fixtures';

// biome-ignore lint/suspicious/noExplicitAny: parsed client configs are inspected freely
type Json = any;

describe('subscription formats (one access, every client)', () => {
  it('headers are exact, with the Cyrillic title base64-encoded and an ASCII-only value set', () => {
    const h = subscriptionHeaders(view(), LINKS, 'base64', 12);
    assert.deepEqual(h, {
      'content-type': 'text/plain; charset=utf-8',
      'subscription-userinfo': 'upload=1234; download=5678901; total=0; expire=1893553445',
      'profile-title': `base64:${Buffer.from('Мой VPN').toString('base64')}`,
      'profile-update-interval': '12',
      'profile-web-page-url': 'https://vpn.example/sub/tok_0123456789abcdef?format=html',
      'support-url': 'https://t.me/vpn_support',
      'content-disposition': `attachment; filename="VPN"; filename*=UTF-8''%D0%9C%D0%BE%D0%B9%20VPN`,
      'cache-control': 'no-store',
      vary: 'User-Agent, Accept, Accept-Language',
    });
    assert.equal(Buffer.from(h['profile-title'].slice(7), 'base64').toString('utf8'), 'Мой VPN');
    for (const value of Object.values(h)) assert.match(value, /^[\x20-\x7e]*$/, 'header values are ASCII');
    assert.equal(
      subscriptionHeaders(view({ totalBytes: 10 * 1024 ** 3 }), LINKS, 'clash', 24)['subscription-userinfo'],
      'upload=1234; download=5678901; total=10737418240; expire=1893553445',
    );
  });

  it('every format carries the same headers; only content-type and disposition differ', async () => {
    const types: Record<string, string> = {
      base64: 'text/plain; charset=utf-8',
      singbox: 'application/json; charset=utf-8',
      clash: 'text/yaml; charset=utf-8',
      xray: 'application/json; charset=utf-8',
      html: 'text/html; charset=utf-8',
    };
    const base = subscriptionHeaders(view(), LINKS, 'base64', 6);
    for (const format of ['base64', 'singbox', 'clash', 'xray', 'html'] as const) {
      const { headers } = await renderSubscription(format, view(), LINKS, {
        updateIntervalHours: 6,
        language: 'ru',
        nonce: 'n0nce',
      });
      assert.equal(headers['content-type'], types[format]);
      for (const name of [
        'subscription-userinfo',
        'profile-title',
        'profile-update-interval',
        'support-url',
      ]) {
        assert.equal(headers[name], base[name], `${format}: ${name}`);
      }
      assert.equal(headers['profile-web-page-url'], LINKS.pageUrl);
      assert.match(headers['content-disposition'], format === 'html' ? /^inline; / : /^attachment; /);
    }
  });

  it('base64: one vless:// link per server, decoding back to the same Reality settings', () => {
    const links = Buffer.from(renderBase64([NODE, NODE_2]), 'base64')
      .toString('utf8')
      .split('\n');
    assert.equal(links.length, 2);
    const [a, b] = links.map(parseVlessLink);
    assert.deepEqual(
      [a.uuid, a.host, a.port, a.serverName, a.publicKey, a.shortId, a.flow, a.fingerprint, a.remark],
      [
        NODE.uuid,
        NODE.host,
        443,
        NODE.serverName,
        NODE.publicKey,
        'ab12',
        'xtls-rprx-vision',
        'chrome',
        NODE.name,
      ],
    );
    assert.equal(b.host, '2001:db8::7');
  });

  it('sing-box: a vless outbound per server with utls + reality + flow, a selector over a urltest, DNS and route', () => {
    const config: Json = JSON.parse(renderSingBox([NODE, NODE_2]));
    const vless = config.outbounds.filter((o: Json) => o.type === 'vless');
    assert.equal(vless.length, 2);
    assert.deepEqual(vless[0], {
      type: 'vless',
      tag: NODE.name,
      server: NODE.host,
      server_port: 443,
      uuid: NODE.uuid,
      flow: 'xtls-rprx-vision',
      packet_encoding: 'xudp',
      tls: {
        enabled: true,
        server_name: NODE.serverName,
        utls: { enabled: true, fingerprint: 'chrome' },
        reality: { enabled: true, public_key: NODE.publicKey, short_id: 'ab12' },
      },
    });
    const selector = config.outbounds.find((o: Json) => o.type === 'selector');
    const urltest = config.outbounds.find((o: Json) => o.type === 'urltest');
    assert.deepEqual(selector.outbounds, ['auto', NODE.name, NODE_2.name]);
    assert.deepEqual(urltest.outbounds, [NODE.name, NODE_2.name]);
    assert.equal(config.route.final, selector.tag);
    assert.ok(
      config.dns.servers.some((s: Json) => s.detour === selector.tag),
      'remote DNS goes through the tunnel',
    );
    assert.ok(
      config.inbounds.some((i: Json) => i.type === 'tun'),
      'mobile clients need a tun inbound',
    );
  });

  it('Clash Meta YAML parses and has every proxy with reality-opts, client-fingerprint, flow and the groups', () => {
    const doc: Json = parseYaml(renderClash([NODE, NODE_2]));
    assert.deepEqual(doc, JSON.parse(JSON.stringify(buildClashConfig([NODE, NODE_2]))), 'writer round-trips');
    assert.equal(doc.proxies.length, 2);
    for (const [i, node] of [NODE, NODE_2].entries()) {
      const p = doc.proxies[i];
      for (const key of [
        'name',
        'type',
        'server',
        'port',
        'uuid',
        'network',
        'tls',
        'udp',
        'flow',
        'servername',
      ]) {
        assert.ok(key in p, `proxy ${i} has ${key}`);
      }
      assert.deepEqual(
        [
          p.name,
          p.type,
          p.server,
          p.port,
          p.uuid,
          p.network,
          p.tls,
          p.flow,
          p.servername,
          p['client-fingerprint'],
        ],
        [
          node.name,
          'vless',
          node.host,
          443,
          node.uuid,
          'tcp',
          true,
          'xtls-rprx-vision',
          node.serverName,
          'chrome',
        ],
      );
      assert.deepEqual(p['reality-opts'], { 'public-key': node.publicKey, 'short-id': node.shortId });
    }
    const groups = doc['proxy-groups'];
    assert.deepEqual(
      groups.map((g: Json) => [g.name, g.type]),
      [
        ['Proxy', 'select'],
        ['Auto', 'url-test'],
      ],
    );
    assert.deepEqual(groups[0].proxies, ['Auto', NODE.name, NODE_2.name]);
    assert.deepEqual(groups[1].proxies, [NODE.name, NODE_2.name]);
    assert.match(groups[1].url, /^https:\/\//);
    assert.equal(typeof groups[1].interval, 'number');
    assert.equal(doc.rules.at(-1), 'MATCH,Proxy');
    assert.equal(typeof doc['mixed-port'], 'number');
  });

  it('Clash YAML uses only keys mihomo knows (its VlessOption / RealityOptions / group fields): no silent typos', () => {
    // mihomo's decoder ignores unknown keys, so a misspelt one would silently drop a setting.
    const VLESS_KEYS = new Set([
      'name',
      'type',
      'server',
      'port',
      'uuid',
      'flow',
      'tls',
      'alpn',
      'udp',
      'packet-addr',
      'xudp',
      'packet-encoding',
      'encryption',
      'network',
      'reality-opts',
      'servername',
      'client-fingerprint',
      'skip-cert-verify',
      'fingerprint',
    ]);
    const REALITY_KEYS = new Set(['public-key', 'short-id', 'support-x25519mlkem768']);
    const GROUP_KEYS = new Set([
      'name',
      'type',
      'proxies',
      'url',
      'interval',
      'tolerance',
      'lazy',
      'timeout',
    ]);
    const doc: Json = parseYaml(renderClash([NODE]));
    for (const k of Object.keys(doc.proxies[0])) assert.ok(VLESS_KEYS.has(k), `proxy key ${k}`);
    for (const k of Object.keys(doc.proxies[0]['reality-opts']))
      assert.ok(REALITY_KEYS.has(k), `reality key ${k}`);
    for (const g of doc['proxy-groups'])
      for (const k of Object.keys(g)) assert.ok(GROUP_KEYS.has(k), `group key ${k}`);
  });

  it('the YAML writer quotes what YAML would misread (names with colons, #, leading dashes, yes/no)', () => {
    const tricky = ['a: b', '# not a comment', '- dash', 'yes', 'null', '0123', '"quoted"', 'слово 🇳🇱'];
    const doc: Json = parseYaml(renderClash(tricky.map((name) => ({ ...NODE, name }))));
    assert.deepEqual(
      doc.proxies.map((p: Json) => p.name),
      tricky,
    );
  });

  it('Xray JSON: an array with one full client config per server', () => {
    const configs: Json[] = JSON.parse(renderXrayJson([NODE, NODE_2]));
    assert.equal(configs.length, 2);
    const [c] = configs;
    assert.equal(c.remarks, NODE.name);
    assert.deepEqual(
      c.inbounds.map((i: Json) => i.protocol),
      ['socks', 'http'],
    );
    const out = c.outbounds[0];
    assert.equal(out.protocol, 'vless');
    assert.deepEqual(out.settings.vnext[0].users[0], {
      id: NODE.uuid,
      encryption: 'none',
      flow: 'xtls-rprx-vision',
    });
    assert.deepEqual(out.streamSettings.realitySettings, {
      serverName: NODE.serverName,
      fingerprint: 'chrome',
      publicKey: NODE.publicKey,
      shortId: 'ab12',
    });
  });
});
