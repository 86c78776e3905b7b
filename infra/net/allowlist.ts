/**
 * Source-IP allowlist for unsigned webhooks (YooKassa's notifications are authenticated only by the
 * address they come from). X-Forwarded-For is believed only when the direct peer is one of our own
 * proxies; otherwise anyone could claim to be YooKassa by sending the header.
 */
import { BlockList, isIP } from 'node:net';

/** YooKassa's published notification sources (https://yookassa.ru/developers/using-api/webhooks). */
export const DEFAULT_YOOKASSA_CIDRS: readonly string[] = [
  '185.71.76.0/27',
  '185.71.77.0/27',
  '77.75.153.0/25',
  '77.75.156.11',
  '77.75.156.35',
  '77.75.154.128/25',
  '2a02:5180::/32',
];

export interface SourceAllowlistOptions {
  /** Comma-separated IPs and CIDRs, IPv4 or IPv6. Default: DEFAULT_YOOKASSA_CIDRS. */
  cidrs?: string;
  /** Comma-separated IPs and CIDRs of our reverse proxies, whose X-Forwarded-For we trust. */
  trustedProxies?: string;
}

export interface SourceAllowlist {
  /** `remoteAddress` is the socket peer (req.socket.remoteAddress); the header is passed as received. */
  isAllowed(remoteAddress: string | undefined, xForwardedFor?: string | string[]): boolean;
}

type Family = 'ipv4' | 'ipv6';
interface Address {
  address: string;
  family: Family;
  /** Written as an IPv4-mapped IPv6 address (::ffff:1.2.3.4) and turned into plain IPv4. */
  mapped: boolean;
}

export function createSourceAllowlist(options: SourceAllowlistOptions = {}): SourceAllowlist {
  const allowed = parseAddressList(options.cidrs ?? DEFAULT_YOOKASSA_CIDRS.join(','), 'allowlist');
  const proxies = options.trustedProxies?.trim()
    ? parseAddressList(options.trustedProxies, 'trusted proxy')
    : null;
  const contains = (list: BlockList, a: Address) => list.check(a.address, a.family);

  return {
    isAllowed(remoteAddress, xForwardedFor) {
      const peer = normalizeAddress(remoteAddress ?? '');
      if (!peer) return false;
      const forwarded = Array.isArray(xForwardedFor) ? xForwardedFor.join(',') : (xForwardedFor ?? '');
      if (!proxies || !contains(proxies, peer) || !forwarded.trim()) return contains(allowed, peer);
      // Walk from the right: each trusted proxy appended the address it saw; the first one we do
      // not trust is the real client. Anything unparsable fails closed.
      const hops = forwarded.split(',').map((hop) => hop.trim());
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = normalizeAddress(stripPort(hops[i]!));
        if (!hop) return false;
        if (!contains(proxies, hop) || i === 0) return contains(allowed, hop);
      }
      return false;
    },
  };
}

/** Parses "1.2.3.0/24, 10.0.0.1, 2a02:5180::/32"; throws naming the first bad entry. */
export function parseAddressList(list: string, label = 'address list'): BlockList {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error(`${label} is empty: expected comma-separated IPs or CIDRs`);
  const blocks = new BlockList();
  for (const entry of entries) addEntry(blocks, entry, label);
  return blocks;
}

function addEntry(blocks: BlockList, entry: string, label: string): void {
  const bad = (why: string) => new Error(`invalid ${label} entry "${entry}": ${why}`);
  const [addressText, prefixText, ...rest] = entry.split('/');
  if (rest.length > 0) throw bad('more than one "/"');
  const parsed = normalizeAddress(addressText!);
  if (!parsed || addressText!.includes('%')) throw bad('not an IPv4 or IPv6 address');
  if (prefixText === undefined) {
    blocks.addAddress(parsed.address, parsed.family);
    return;
  }
  if (!/^\d{1,3}$/.test(prefixText)) throw bad('the prefix length must be a number');
  let prefix = Number(prefixText);
  if (parsed.mapped) {
    if (prefix < 96) throw bad('an IPv4-mapped subnet needs a prefix of at least /96');
    prefix -= 96;
  }
  const max = parsed.family === 'ipv4' ? 32 : 128;
  if (prefix > max) throw bad(`the prefix length exceeds /${max}`);
  blocks.addSubnet(parsed.address, prefix, parsed.family);
}

/** Accepts what sockets and proxies report: plain IPv4/IPv6, IPv4-mapped IPv6, a zone suffix. */
function normalizeAddress(raw: string): Address | undefined {
  let text = raw.trim();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const version = isIP(text);
  if (version === 4) return { address: text, family: 'ipv4', mapped: false };
  if (version !== 6) return undefined;
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (dotted && isIP(dotted[1]!) === 4) return { address: dotted[1]!, family: 'ipv4', mapped: true };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(text);
  if (hex) {
    const high = Number.parseInt(hex[1]!, 16);
    const low = Number.parseInt(hex[2]!, 16);
    const address = [high >> 8, high & 255, low >> 8, low & 255].join('.');
    return { address, family: 'ipv4', mapped: true };
  }
  return { address: text, family: 'ipv6', mapped: false };
}

/** X-Forwarded-For hops sometimes carry a port: "1.2.3.4:5678" or "[2a02::1]:443". */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return v4WithPort ? v4WithPort[1]! : hop;
}
