import assert from 'node:assert/strict';
import { chooseFormat, type SubscriptionFormat } from '../../../infra/subscription/choose-format';

const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

// User-Agent strings as real client versions send them when they fetch a subscription.
const TABLE: Array<[string, SubscriptionFormat]> = [
  ['HiddifyNext/2.5.7 (android) like ClashMeta v2ray sing-box', 'singbox'],
  ['HiddifyNext/2.0.5 (windows) like ClashMeta v2ray sing-box', 'singbox'],
  ['Hiddify/3.1.0 (ios) like ClashMeta v2ray sing-box', 'singbox'],
  ['SFA/1.11.9 (615; sing-box 1.11.9; language en_US)', 'singbox'],
  ['SFI/1.12.4 (Build 288; sing-box 1.12.4; language ru_RU)', 'singbox'],
  ['SFM/1.12.4 (Build 288; sing-box 1.12.4; language en_US)', 'singbox'],
  ['SFT/1.12.4 (Build 288; sing-box 1.12.4; language en_US)', 'singbox'],
  ['sing-box 1.14.1', 'singbox'],
  ['karing/1.1.2.606 android', 'singbox'],
  ['Karing/1.0.36.396 ios', 'singbox'],
  ['clash-verge/v2.2.3', 'clash'],
  ['ClashMetaForAndroid/2.11.7.Meta', 'clash'],
  ['Clash-Meta/1.18.0', 'clash'],
  ['clash.meta/v1.19.10', 'clash'],
  ['FlClash/v0.8.80 clash-verge Platform/android', 'clash'],
  ['mihomo/1.19.10', 'clash'],
  ['Stash/2.4.7 Clash/1.9.0', 'clash'],
  ['Happ/1.63.1/Android/1723560001', 'base64'],
  ['Happ/3.2.1 CFNetwork/1568.100.1 Darwin/24.0.0', 'base64'],
  ['v2rayN/7.10.5', 'base64'],
  ['v2rayNG/1.9.44', 'base64'],
  ['v2raytun/android', 'base64'],
  ['Streisand/1.6.43 CFNetwork/1498.700.2 Darwin/23.6.0', 'base64'],
  ['Shadowrocket/2070 CFNetwork/1498.700.2 Darwin/23.6.0 iPhone14,5', 'base64'],
  ['V2Box/8.21 CFNetwork/1498.700.2 Darwin/23.6.0', 'base64'],
  ['okhttp/4.12.0', 'base64'],
  ['curl/8.5.0', 'base64'],
  ['', 'base64'],
];

describe('subscription: format by User-Agent', () => {
  for (const [ua, format] of TABLE) {
    it(`${ua || '(no User-Agent)'} → ${format}`, () => {
      assert.equal(chooseFormat({ userAgent: ua, accept: '*/*' }), format);
    });
  }

  it('a browser asking for text/html gets the page; the same browser with Accept */* gets base64', () => {
    const chrome =
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
    const safari =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
    assert.equal(chooseFormat({ userAgent: chrome, accept: BROWSER_ACCEPT }), 'html');
    assert.equal(chooseFormat({ userAgent: safari, accept: BROWSER_ACCEPT }), 'html');
    assert.equal(chooseFormat({ userAgent: chrome, accept: '*/*' }), 'base64');
  });

  it('a VPN client that sends Accept: text/html still gets its format, not the page', () => {
    assert.equal(
      chooseFormat({ userAgent: 'SFA/1.11.9 (615; sing-box 1.11.9)', accept: 'text/html' }),
      'singbox',
    );
  });

  it('?format= overrides the User-Agent', () => {
    assert.equal(chooseFormat({ format: 'xray', userAgent: 'HiddifyNext/2.5.7' }), 'xray');
    assert.equal(chooseFormat({ format: 'base64', userAgent: 'mozilla', accept: BROWSER_ACCEPT }), 'base64');
    assert.equal(chooseFormat({ format: 'html', userAgent: 'v2rayNG/1.9.44' }), 'html');
  });
});
