import type { SubscriptionNode } from './types';

/** Loopback proxy port for desktop use; mobile clients (SFA/SFI) use the tun inbound. */
export const SINGBOX_MIXED_PORT = 2080;
export const URL_TEST = 'https://www.gstatic.com/generate_204';

/** Tags clients show; unique even when two servers share a name. */
export function nodeTags(nodes: SubscriptionNode[]): string[] {
  const seen = new Map<string, number>();
  return nodes.map((n) => {
    const count = (seen.get(n.name) ?? 0) + 1;
    seen.set(n.name, count);
    return count === 1 ? n.name : `${n.name} (${count})`;
  });
}

function vlessOutbound(node: SubscriptionNode, tag: string): Record<string, unknown> {
  return {
    type: 'vless',
    tag,
    server: node.host,
    server_port: node.port,
    uuid: node.uuid,
    flow: node.flow,
    packet_encoding: 'xudp',
    tls: {
      enabled: true,
      server_name: node.serverName,
      utls: { enabled: true, fingerprint: node.fingerprint },
      reality: { enabled: true, public_key: node.publicKey, short_id: node.shortId },
    },
  };
}

/**
 * A complete sing-box (≥ 1.12 formats: typed DNS servers, rule actions) profile for SFA/SFI/SFM/SFT,
 * Karing and Hiddify: one outbound per server, "proxy" selector over an "auto" urltest, DNS over HTTPS
 * through the tunnel, local/private traffic direct.
 */
export function buildSingBoxConfig(nodes: SubscriptionNode[]): Record<string, unknown> {
  const tags = nodeTags(nodes);
  return {
    log: { level: 'warn', timestamp: true },
    dns: {
      servers: [
        { type: 'https', tag: 'dns-remote', server: '1.1.1.1', detour: 'proxy' },
        { type: 'local', tag: 'dns-local' },
      ],
      rules: [{ domain_suffix: ['local', 'lan'], server: 'dns-local' }],
      final: 'dns-remote',
      strategy: 'prefer_ipv4',
    },
    inbounds: [
      {
        type: 'tun',
        tag: 'tun-in',
        address: ['172.19.0.1/30', 'fdfe:dcba:9876::1/126'],
        auto_route: true,
        strict_route: true,
        stack: 'mixed',
      },
      { type: 'mixed', tag: 'mixed-in', listen: '127.0.0.1', listen_port: SINGBOX_MIXED_PORT },
    ],
    outbounds: [
      { type: 'selector', tag: 'proxy', outbounds: ['auto', ...tags], default: 'auto' },
      {
        type: 'urltest',
        tag: 'auto',
        outbounds: tags,
        url: URL_TEST,
        interval: '5m',
        tolerance: 50,
      },
      ...nodes.map((n, i) => vlessOutbound(n, tags[i])),
      { type: 'direct', tag: 'direct' },
    ],
    route: {
      rules: [
        { action: 'sniff' },
        { protocol: 'dns', action: 'hijack-dns' },
        { ip_is_private: true, outbound: 'direct' },
      ],
      final: 'proxy',
      auto_detect_interface: true,
      default_domain_resolver: 'dns-local',
    },
    experimental: { cache_file: { enabled: true } },
  };
}

export const renderSingBox = (nodes: SubscriptionNode[]) =>
  JSON.stringify(buildSingBoxConfig(nodes), null, 2);
