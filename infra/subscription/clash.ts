import { nodeTags, URL_TEST } from './singbox';
import type { SubscriptionNode } from './types';
import { toYaml, type YamlValue } from './yaml-writer';

export const CLASH_SELECT_GROUP = 'Proxy';
export const CLASH_AUTO_GROUP = 'Auto';

/** Private ranges go direct; `no-resolve` keeps domain rules from triggering DNS lookups. */
const DIRECT_CIDRS = [
  'IP-CIDR,10.0.0.0/8',
  'IP-CIDR,100.64.0.0/10',
  'IP-CIDR,127.0.0.0/8',
  'IP-CIDR,169.254.0.0/16',
  'IP-CIDR,172.16.0.0/12',
  'IP-CIDR,192.168.0.0/16',
  'IP-CIDR6,::1/128',
  'IP-CIDR6,fc00::/7',
  'IP-CIDR6,fe80::/10',
];

function proxy(node: SubscriptionNode, name: string): YamlValue {
  return {
    name,
    type: 'vless',
    server: node.host,
    port: node.port,
    uuid: node.uuid,
    network: 'tcp',
    udp: true,
    tls: true,
    flow: node.flow,
    servername: node.serverName,
    'client-fingerprint': node.fingerprint,
    'reality-opts': { 'public-key': node.publicKey, 'short-id': node.shortId },
  };
}

/** Clash Meta (mihomo) profile for Clash Verge, FlClash, Stash, mihomo: one proxy per server, select + url-test. */
export function buildClashConfig(nodes: SubscriptionNode[]): YamlValue {
  const names = nodeTags(nodes);
  return {
    'mixed-port': 7890,
    'allow-lan': false,
    mode: 'rule',
    'log-level': 'warning',
    ipv6: true,
    dns: {
      enable: true,
      ipv6: true,
      'enhanced-mode': 'redir-host',
      'default-nameserver': ['1.1.1.1', '8.8.8.8'],
      nameserver: ['https://1.1.1.1/dns-query', 'https://8.8.8.8/dns-query'],
    },
    proxies: nodes.map((n, i) => proxy(n, names[i])),
    'proxy-groups': [
      { name: CLASH_SELECT_GROUP, type: 'select', proxies: [CLASH_AUTO_GROUP, ...names] },
      {
        name: CLASH_AUTO_GROUP,
        type: 'url-test',
        proxies: names,
        url: URL_TEST,
        interval: 300,
        tolerance: 50,
      },
    ],
    rules: [...DIRECT_CIDRS.map((r) => `${r},DIRECT,no-resolve`), `MATCH,${CLASH_SELECT_GROUP}`],
  };
}

export const renderClash = (nodes: SubscriptionNode[]) => toYaml(buildClashConfig(nodes));
