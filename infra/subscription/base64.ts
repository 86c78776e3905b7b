import { buildVlessLink } from '../xray/link';
import type { SubscriptionNode } from './types';

export function vlessLinkOf(node: SubscriptionNode): string {
  return buildVlessLink({
    uuid: node.uuid,
    host: node.host,
    port: node.port,
    serverName: node.serverName,
    publicKey: node.publicKey,
    shortId: node.shortId,
    remark: node.name,
    fingerprint: node.fingerprint,
    flow: node.flow,
  });
}

/** Base64 of newline-separated vless:// links: v2rayN(G), Happ, Streisand, Shadowrocket, V2Box, and the default. */
export function renderBase64(nodes: SubscriptionNode[]): string {
  return Buffer.from(nodes.map(vlessLinkOf).join('\n'), 'utf8').toString('base64');
}
