import type { AccessView, SubscriptionLinks, SubscriptionNode } from '../../../infra/subscription/types';

export const NODE: SubscriptionNode = {
  name: 'NL 🇳🇱 Amsterdam',
  host: 'nl1.vpn.example',
  port: 443,
  uuid: '0b1e4c0e-8a4e-4d4b-9a53-1e3c7c1b2a11',
  flow: 'xtls-rprx-vision',
  serverName: 'www.microsoft.com',
  publicKey: 'Dz3BY6CNiJDTQITldXd-JTkSjt0Xt7QcZf0fxy9UTA0',
  shortId: 'ab12',
  fingerprint: 'chrome',
};

export const NODE_2: SubscriptionNode = {
  ...NODE,
  name: 'DE Frankfurt',
  host: '2001:db8::7',
  uuid: '1c2e4c0e-8a4e-4d4b-9a53-1e3c7c1b2a22',
  shortId: '',
};

export const LINKS: SubscriptionLinks = {
  subscriptionUrl: 'https://vpn.example/sub/tok_0123456789abcdef',
  pageUrl: 'https://vpn.example/sub/tok_0123456789abcdef?format=html',
  supportUrl: 'https://t.me/vpn_support',
  renewUrl: 'https://t.me/my_vpn_bot',
};

export function view(over: Partial<AccessView> = {}): AccessView {
  return {
    state: 'active',
    nodes: [NODE],
    uploadBytes: 1_234,
    downloadBytes: 5_678_901,
    totalBytes: 0,
    expireAt: new Date('2030-01-02T03:04:05.678Z'),
    title: 'Мой VPN',
    tariffName: 'Месяц',
    devices: 1,
    deviceLimit: 0,
    ...over,
  };
}
