import assert from 'node:assert/strict';
import { buildVlessLink, parseVlessLink } from '../../../infra/xray/link';
import { qrPng } from '../../../infra/xray/qr';

const base = {
  uuid: '0b1e4c0e-8a4e-4d4b-9a53-1e3c7c1b2a11',
  host: 'nl1.example.com',
  port: 443,
  serverName: 'www.microsoft.com',
  publicKey: 'Dz3BY6CNiJDTQITldXd-JTkSjt0Xt7QcZf0fxy9UTA0',
  shortId: '0123456789abcdef',
  remark: 'NL Amsterdam',
};

describe('vless:// share links', () => {
  it('has exactly the format clients import', () => {
    assert.equal(
      buildVlessLink(base),
      'vless://0b1e4c0e-8a4e-4d4b-9a53-1e3c7c1b2a11@nl1.example.com:443?type=tcp&encryption=none' +
        '&security=reality&sni=www.microsoft.com&fp=chrome&pbk=Dz3BY6CNiJDTQITldXd-JTkSjt0Xt7QcZf0fxy9UTA0' +
        '&sid=0123456789abcdef&flow=xtls-rprx-vision#NL%20Amsterdam',
    );
  });

  it('puts an IPv6 host in brackets and round-trips it', () => {
    for (const host of ['2001:db8::1', '[2001:db8::1]', '::1']) {
      const link = buildVlessLink({ ...base, host });
      const bare = host.replace(/[[\]]/g, '');
      assert.ok(link.includes(`@[${bare}]:443?`), link);
      assert.equal(parseVlessLink(link).host, bare);
    }
    assert.ok(buildVlessLink({ ...base, host: '203.0.113.7' }).includes('@203.0.113.7:443?'));
  });

  it('URL-encodes every value, including non-ASCII remarks, and parses them back', () => {
    const input = { ...base, remark: '🇳🇱 Нидерланды #1 & co +50%', serverName: 'a b&c=d', shortId: '' };
    const link = buildVlessLink(input);
    assert.match(link, /#%F0%9F%87%B3%F0%9F%87%B1%20/);
    assert.ok(link.includes('sni=a%20b%26c%3Dd&'));
    assert.ok(link.includes('&sid=&'));
    assert.ok(!/[ #&]/.test(link.split('#')[1]), 'remark has no raw separators');
    const parsed = parseVlessLink(link);
    assert.deepEqual(parsed, {
      ...input,
      fingerprint: 'chrome',
      flow: 'xtls-rprx-vision',
      type: 'tcp',
      security: 'reality',
      encryption: 'none',
    });
  });

  it('parses links written by other tools (param order, + for space, trailing slash)', () => {
    const parsed = parseVlessLink(
      `vless://${base.uuid}@example.org:8443/?security=reality&pbk=KEY&sni=example.org&type=tcp&flow=xtls-rprx-vision&sid=ab&fp=firefox#My+node`,
    );
    assert.equal(parsed.port, 8443);
    assert.equal(parsed.fingerprint, 'firefox');
    assert.equal(parsed.publicKey, 'KEY');
    assert.equal(parsed.remark, 'My node');
  });

  it('rejects what is not a usable link', () => {
    assert.throws(() => parseVlessLink('vmess://abc'), /vless/);
    assert.throws(() => parseVlessLink('vless://not-a-uuid@h:1?x=1'), /uuid/);
    assert.throws(() => parseVlessLink(`vless://${base.uuid}@h:70000`), /port/);
    assert.throws(() => buildVlessLink({ ...base, port: 0 }), /port/);
    assert.throws(() => buildVlessLink({ ...base, uuid: 'x' }), /uuid/);
  });

  it('renders the link as a PNG QR code', async () => {
    const png = await qrPng(buildVlessLink(base));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length > 1_000);
  });
});
