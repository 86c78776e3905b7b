import assert from 'node:assert/strict';
import {
  createSourceAllowlist,
  DEFAULT_YOOKASSA_CIDRS,
  parseAddressList,
} from '../../../infra/net/allowlist';

describe('source allowlist', () => {
  it('defaults to YooKassa’s published ranges', () => {
    assert.ok(DEFAULT_YOOKASSA_CIDRS.includes('185.71.76.0/27'));
    assert.ok(DEFAULT_YOOKASSA_CIDRS.includes('2a02:5180::/32'));
    const list = createSourceAllowlist();
    for (const ip of [
      '185.71.76.0',
      '185.71.76.31',
      '185.71.77.5',
      '77.75.153.127',
      '77.75.156.11',
      '77.75.156.35',
    ]) {
      assert.equal(list.isAllowed(ip), true, ip);
    }
    for (const ip of ['185.71.76.32', '77.75.153.128', '77.75.156.12', '8.8.8.8', '127.0.0.1', '::1']) {
      assert.equal(list.isAllowed(ip), false, ip);
    }
    assert.equal(list.isAllowed('2a02:5180:0:1::7'), true);
    assert.equal(list.isAllowed('2a02:5181::1'), false);
  });

  it('matches IPv4-mapped IPv6 peers against IPv4 entries', () => {
    const list = createSourceAllowlist({ cidrs: '127.0.0.1, 185.71.76.0/27' });
    assert.equal(list.isAllowed('::ffff:127.0.0.1'), true);
    assert.equal(list.isAllowed('::FFFF:185.71.76.9'), true);
    assert.equal(list.isAllowed('::ffff:7f00:1'), true);
    assert.equal(list.isAllowed('::ffff:127.0.0.2'), false);
    assert.equal(list.isAllowed('0:0:0:0:0:ffff:127.0.0.1'), true);
  });

  it('accepts IPv6 addresses and subnets, and mapped entries', () => {
    const list = createSourceAllowlist({ cidrs: '::1,fd00:1::/64,::ffff:10.0.0.0/104' });
    assert.equal(list.isAllowed('::1'), true);
    assert.equal(list.isAllowed('fd00:1::abcd'), true);
    assert.equal(list.isAllowed('fd00:2::1'), false);
    assert.equal(list.isAllowed('10.1.2.3'), true);
    assert.equal(list.isAllowed('fe80::1%eth0'), false);
  });

  it('refuses a missing or unparsable peer', () => {
    const list = createSourceAllowlist({ cidrs: '0.0.0.0/0' });
    assert.equal(list.isAllowed(undefined), false);
    assert.equal(list.isAllowed(''), false);
    assert.equal(list.isAllowed('localhost'), false);
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', () => {
    const list = createSourceAllowlist();
    assert.equal(list.isAllowed('10.0.0.5', '185.71.76.5'), false);
    const behindProxy = createSourceAllowlist({ trustedProxies: '10.0.0.0/8' });
    assert.equal(
      behindProxy.isAllowed('203.0.113.7', '185.71.76.5'),
      false,
      'an untrusted peer cannot claim',
    );
    assert.equal(behindProxy.isAllowed('10.0.0.5', '185.71.76.5'), true);
    assert.equal(behindProxy.isAllowed('::ffff:10.0.0.5', '185.71.76.5'), true);
  });

  it('takes the right-most untrusted hop, so a client cannot spoof the chain', () => {
    const list = createSourceAllowlist({ trustedProxies: '10.0.0.0/8, 192.168.1.1' });
    assert.equal(list.isAllowed('10.0.0.5', '185.71.76.5, 10.0.0.9'), true, 'skips our own proxies');
    assert.equal(list.isAllowed('10.0.0.5', '6.6.6.6, 185.71.76.5'), true, 'a forged left part is ignored');
    assert.equal(list.isAllowed('10.0.0.5', '185.71.76.5, 6.6.6.6'), false, 'the real client is 6.6.6.6');
    assert.equal(list.isAllowed('10.0.0.5', ['185.71.76.5', '192.168.1.1']), true, 'repeated headers');
    assert.equal(list.isAllowed('10.0.0.5', '185.71.76.5:4711'), true, 'port suffix');
    assert.equal(list.isAllowed('10.0.0.5', '[2a02:5180::1]:443'), true, 'bracketed IPv6 with port');
    assert.equal(
      list.isAllowed('10.0.0.5', 'garbage, 185.71.76.5'),
      true,
      'garbage left of the client is not read',
    );
    assert.equal(
      list.isAllowed('10.0.0.5', '185.71.76.5, garbage'),
      false,
      'garbage at the client position fails',
    );
    assert.equal(list.isAllowed('10.0.0.5', ''), false, 'empty header: the proxy itself is the source');
    assert.equal(list.isAllowed('10.0.0.5', '10.0.0.1, 10.0.0.2'), false, 'only proxies in the chain');
  });

  it('names the bad entry when parsing fails', () => {
    const cases: [string, RegExp][] = [
      ['185.71.76.0/33', /"185\.71\.76\.0\/33".*\/32/],
      ['1.2.3.4, banana', /"banana"/],
      ['10.0.0.0/8/1', /"10\.0\.0\.0\/8\/1"/],
      ['10.0.0.0/x', /"10\.0\.0\.0\/x"/],
      ['2a02::/129', /"2a02::\/129"/],
      ['::ffff:1.2.3.0/64', /"::ffff:1\.2\.3\.0\/64"/],
      [' , ', /empty/],
    ];
    for (const [input, message] of cases) {
      assert.throws(() => createSourceAllowlist({ cidrs: input }), message, input);
    }
    assert.throws(
      () => createSourceAllowlist({ trustedProxies: '10.0.0.0/8,nope' }),
      /trusted proxy entry "nope"/,
    );
    assert.throws(() => parseAddressList('300.1.1.1'), /"300\.1\.1\.1"/);
  });

  it('treats a blank trustedProxies as none', () => {
    const list = createSourceAllowlist({ trustedProxies: '  ' });
    assert.equal(list.isAllowed('10.0.0.5', '185.71.76.5'), false);
  });
});
