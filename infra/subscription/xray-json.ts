import { PRIVATE_CIDRS } from '../xray/server-config';
import { nodeTags } from './singbox';
import type { SubscriptionNode } from './types';

export const XRAY_SOCKS_PORT = 10808;
export const XRAY_HTTP_PORT = 10809;

/**
 * One complete Xray client config for one server: local SOCKS + HTTP inbounds, the VLESS + Reality
 * outbound, private ranges direct. Explicit CIDRs instead of geoip:private, so no geoip.dat is needed.
 */
export function buildXrayClientConfig(node: SubscriptionNode, remarks: string): Record<string, unknown> {
  return {
    remarks,
    log: { loglevel: 'warning' },
    dns: { servers: ['https://1.1.1.1/dns-query', 'localhost'], queryStrategy: 'UseIPv4' },
    inbounds: [
      {
        tag: 'socks',
        listen: '127.0.0.1',
        port: XRAY_SOCKS_PORT,
        protocol: 'socks',
        settings: { auth: 'noauth', udp: true },
        sniffing: { enabled: true, destOverride: ['http', 'tls', 'quic'], routeOnly: true },
      },
      { tag: 'http', listen: '127.0.0.1', port: XRAY_HTTP_PORT, protocol: 'http', settings: {} },
    ],
    outbounds: [
      {
        tag: 'proxy',
        protocol: 'vless',
        settings: {
          vnext: [
            {
              address: node.host,
              port: node.port,
              users: [{ id: node.uuid, encryption: 'none', flow: node.flow }],
            },
          ],
        },
        streamSettings: {
          network: 'raw',
          security: 'reality',
          realitySettings: {
            serverName: node.serverName,
            fingerprint: node.fingerprint,
            publicKey: node.publicKey,
            shortId: node.shortId,
          },
        },
      },
      { tag: 'direct', protocol: 'freedom' },
      { tag: 'block', protocol: 'blackhole' },
    ],
    routing: {
      domainStrategy: 'AsIs',
      rules: [{ type: 'field', ip: PRIVATE_CIDRS, outboundTag: 'direct' }],
    },
  };
}

/** `?format=xray`: a JSON array with one full config per server (what v2rayN and Happ import). */
export function buildXrayJson(nodes: SubscriptionNode[]): Record<string, unknown>[] {
  const names = nodeTags(nodes);
  return nodes.map((n, i) => buildXrayClientConfig(n, names[i]));
}

export const renderXrayJson = (nodes: SubscriptionNode[]) => JSON.stringify(buildXrayJson(nodes), null, 2);
