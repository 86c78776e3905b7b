import { VISION_FLOW } from './link';

export const DEFAULT_INBOUND_TAG = 'vless-reality';
export const DEFAULT_XRAY_API = '127.0.0.1:10085';

export interface ServerConfigInput {
  /** Reality VLESS port, e.g. 443. */
  port: number;
  listen?: string;
  /** host:port of the gRPC API; must stay on loopback (it has no auth). */
  apiListen?: string;
  inboundTag?: string;
  privateKey: string;
  /** Hex short ids; "" lets clients connect without one. */
  shortIds: string[];
  serverNames: string[];
  /** TLS 1.3 site whose handshake Reality borrows, host:port. */
  target: string;
  /**
   * Users baked into the file. Leave empty on agent-managed nodes: the agent's store is the source of
   * truth and its reconciler removes any Xray user the store does not know.
   */
  clients?: { email: string; uuid: string; flow?: string }[];
  logLevel?: 'debug' | 'info' | 'warning' | 'error' | 'none';
  /**
   * Let VPN users reach loopback/private addresses through the node. Off in production: otherwise a user
   * could talk to the unauthenticated Xray API or the agent on 127.0.0.1. Tests on loopback need it on.
   */
  allowPrivateDestinations?: boolean;
}

/** Destinations a VPN user must never reach via the node (loopback, RFC1918, link-local, CGNAT, ULA). */
export const PRIVATE_CIDRS = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/** Xray server config: VLESS+Reality inbound, gRPC API (Handler, Stats, Logger), per-user stats. */
export function buildServerConfig(input: ServerConfigInput): Record<string, unknown> {
  const tag = input.inboundTag ?? DEFAULT_INBOUND_TAG;
  const rules: Record<string, unknown>[] = [{ type: 'field', inboundTag: ['api'], outboundTag: 'api' }];
  if (!input.allowPrivateDestinations) {
    rules.push({ type: 'field', ip: PRIVATE_CIDRS, outboundTag: 'block' });
  }
  return {
    log: { loglevel: input.logLevel ?? 'warning' },
    api: {
      tag: 'api',
      listen: input.apiListen ?? DEFAULT_XRAY_API,
      services: ['HandlerService', 'StatsService', 'LoggerService'],
    },
    stats: {},
    policy: {
      levels: { '0': { statsUserUplink: true, statsUserDownlink: true } },
      system: { statsInboundUplink: true, statsInboundDownlink: true },
    },
    inbounds: [
      {
        tag,
        listen: input.listen ?? '0.0.0.0',
        port: input.port,
        protocol: 'vless',
        settings: {
          clients: (input.clients ?? []).map((c) => ({
            id: c.uuid,
            email: c.email,
            flow: c.flow ?? VISION_FLOW,
            level: 0,
          })),
          decryption: 'none',
        },
        streamSettings: {
          network: 'raw',
          security: 'reality',
          realitySettings: {
            show: false,
            target: input.target,
            xver: 0,
            serverNames: input.serverNames,
            privateKey: input.privateKey,
            shortIds: input.shortIds,
          },
        },
        sniffing: { enabled: true, destOverride: ['http', 'tls', 'quic'], routeOnly: true },
      },
    ],
    outbounds: [
      { tag: 'direct', protocol: 'freedom' },
      { tag: 'block', protocol: 'blackhole' },
    ],
    // IPIfNonMatch resolves domains so the private-IP block also catches names like "localhost".
    routing: { domainStrategy: 'IPIfNonMatch', rules },
  };
}
