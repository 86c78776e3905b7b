import assert from 'node:assert/strict';
import { buildVlessLink, parseVlessLink } from '../../../infra/xray/link';
import { newSubscriptionToken, renderSubscription } from '../../../infra/xray/subscription';

const link = buildVlessLink({
  uuid: '0b1e4c0e-8a4e-4d4b-9a53-1e3c7c1b2a11',
  host: '2001:db8::7',
  port: 443,
  serverName: 'www.microsoft.com',
  publicKey: 'Dz3BY6CNiJDTQITldXd-JTkSjt0Xt7QcZf0fxy9UTA0',
  shortId: 'ab12',
  remark: 'NL 🇳🇱',
});

describe('subscription (/sub/<token>) rendering', () => {
  const expireAt = new Date('2030-01-02T03:04:05.678Z');
  const rendered = renderSubscription({
    links: [link],
    upload: 1_234,
    download: 5_678_901,
    total: 0,
    expireAt,
    title: 'Мой VPN',
    supportUrl: 'https://t.me/vpn_support',
    updateIntervalHours: 12,
  });

  it('body is base64 of the share links and decodes to the same link', () => {
    const decoded = Buffer.from(rendered.body, 'base64').toString('utf8');
    assert.equal(decoded, link);
    assert.deepEqual(parseVlessLink(decoded), parseVlessLink(link));
  });

  it('sets the headers clients read', () => {
    const h = rendered.headers;
    assert.equal(h['subscription-userinfo'], `upload=1234; download=5678901; total=0; expire=${1893553445}`);
    assert.equal(h['profile-update-interval'], '12');
    assert.equal(h['profile-title'], `base64:${Buffer.from('Мой VPN').toString('base64')}`);
    assert.equal(h['support-url'], 'https://t.me/vpn_support');
    assert.equal(h['content-type'], 'text/plain; charset=utf-8');
    assert.match(h['content-disposition'], /^attachment; filename="[\x20-\x7e]+"$/);
    for (const value of Object.values(h)) assert.match(value, /^[\x20-\x7e]*$/, 'header values are ASCII');
  });

  it('joins several links with newlines; an expired subscription is an empty list', () => {
    const two = renderSubscription({ ...baseInput(), links: [link, link] });
    assert.equal(Buffer.from(two.body, 'base64').toString(), `${link}\n${link}`);
    const expired = renderSubscription({
      ...baseInput(),
      links: [],
      expireAt: new Date('2020-01-01T00:00:00Z'),
    });
    assert.equal(expired.body, '');
    assert.match(expired.headers['subscription-userinfo'], /expire=1577836800$/);
    assert.equal(expired.headers['support-url'], undefined);
  });

  it('issues unguessable URL-safe tokens (>= 128 bits)', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newSubscriptionToken()));
    assert.equal(tokens.size, 1000);
    for (const t of tokens) {
      assert.match(t, /^[A-Za-z0-9_-]{32}$/);
      assert.ok(Buffer.from(t, 'base64url').length * 8 >= 128);
    }
  });
});

function baseInput() {
  return {
    links: [] as string[],
    upload: 0,
    download: 0,
    total: 10 * 1024 ** 3,
    expireAt: new Date(),
    title: 'VPN',
    updateIntervalHours: 24,
  };
}
