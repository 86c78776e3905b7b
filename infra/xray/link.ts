import { isIPv6 } from 'node:net';

export const VISION_FLOW = 'xtls-rprx-vision';

export interface VlessLinkInput {
  uuid: string;
  host: string;
  port: number;
  serverName: string;
  publicKey: string;
  shortId: string;
  remark: string;
  /** uTLS fingerprint the client imitates; clients expect "chrome". */
  fingerprint?: string;
  flow?: string;
}

export interface VlessLink extends Required<VlessLinkInput> {
  type: string;
  security: string;
  encryption: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const enc = encodeURIComponent;

function hostForUrl(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isIPv6(bare) ? `[${bare}]` : host;
}

/**
 * The share link v2rayNG / Hiddify / Streisand / v2rayN import:
 * vless://uuid@host:port?type=tcp&encryption=none&security=reality&sni=..&fp=chrome&pbk=..&sid=..&flow=..#remark
 */
export function buildVlessLink(input: VlessLinkInput): string {
  if (!UUID_RE.test(input.uuid)) throw new Error(`invalid uuid: ${input.uuid}`);
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) {
    throw new Error(`invalid port: ${input.port}`);
  }
  const query = [
    'type=tcp',
    'encryption=none',
    'security=reality',
    `sni=${enc(input.serverName)}`,
    `fp=${enc(input.fingerprint ?? 'chrome')}`,
    `pbk=${enc(input.publicKey)}`,
    `sid=${enc(input.shortId)}`,
    `flow=${enc(input.flow ?? VISION_FLOW)}`,
  ].join('&');
  return `vless://${enc(input.uuid)}@${hostForUrl(input.host)}:${input.port}?${query}#${enc(input.remark)}`;
}

const LINK_RE = /^vless:\/\/([^@/?#]+)@(\[[^\]]+\]|[^:/?#[\]]+):(\d{1,5})\/?(?:\?([^#]*))?(?:#(.*))?$/i;

function decode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Parses a vless:// Reality link (ours or a compatible one) back into its parts. */
export function parseVlessLink(url: string): VlessLink {
  const m = LINK_RE.exec(url.trim());
  if (!m) throw new Error('not a vless:// link');
  const [, rawUuid, rawHost, rawPort, rawQuery = '', rawRemark = ''] = m;
  const params = new Map<string, string>();
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue;
    const i = pair.indexOf('=');
    const key = decode(i < 0 ? pair : pair.slice(0, i));
    params.set(key, i < 0 ? '' : decode(pair.slice(i + 1)));
  }
  const uuid = decode(rawUuid);
  if (!UUID_RE.test(uuid)) throw new Error(`invalid uuid in link: ${uuid}`);
  const port = Number(rawPort);
  if (port < 1 || port > 65535) throw new Error(`invalid port in link: ${rawPort}`);
  return {
    uuid,
    host: rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost,
    port,
    type: params.get('type') ?? 'tcp',
    encryption: params.get('encryption') ?? 'none',
    security: params.get('security') ?? 'none',
    serverName: params.get('sni') ?? '',
    fingerprint: params.get('fp') ?? 'chrome',
    publicKey: params.get('pbk') ?? '',
    shortId: params.get('sid') ?? '',
    flow: params.get('flow') ?? '',
    remark: decode(rawRemark),
  };
}
