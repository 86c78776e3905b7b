import type { AccessRow } from '../db/rows';
import { entryNames, type ListedNode } from '../fleet/access-nodes';
import { VISION_FLOW } from '../xray/link';
import { type PageLanguage, placeholderNode } from './placeholder';
import type { AccessState, AccessView, SubscriptionNode } from './types';

/** A row selected with ACCESS_SELECT (infra/access.ts). */
type Row = AccessRow;

/**
 * The entries of an access: with `listed` (ACCESS_NODES=location, infra/fleet/access-nodes.ts) one per
 * node it is wanted on and that is up, home first, named by country and location; without, its home node
 * as before. Every entry carries the asking device's uuid (x-hwid), else the access's own.
 */
export function nodesOfRow(row: Row, device?: DeviceKey, listed?: ListedNode[]): SubscriptionNode[] {
  const uuid = device?.uuid ?? row.client_uuid;
  if (listed && listed.length > 0) {
    const names = entryNames(listed);
    return listed.map((n, i) => ({
      name: names[i],
      host: n.host,
      port: Number(n.port),
      uuid,
      flow: VISION_FLOW,
      serverName: n.reality_server_name,
      publicKey: n.reality_public_key,
      shortId: n.reality_short_id,
      fingerprint: 'chrome',
    }));
  }
  return [
    {
      name: `${row.node_name}-${row.telegram_id}`,
      host: row.host,
      port: Number(row.port),
      uuid,
      flow: VISION_FLOW,
      serverName: row.reality_server_name,
      publicKey: row.reality_public_key,
      shortId: row.reality_short_id,
      fingerprint: 'chrome',
    },
  ];
}

/** Active and not yet past its end; past the end = expired; ended early (refund, revoke) = revoked. */
export function accessState(row: Row, now: Date): AccessState {
  const end = new Date(row.expires_at);
  if (row.status === 'active' && end > now) return 'active';
  return end <= now ? 'expired' : 'revoked';
}

export interface ViewOptions {
  now: Date;
  /** Language of the placeholder's name. */
  language: PageLanguage;
  /** Where to renew, named in the placeholder (the bot link, else support). */
  renewAt?: string;
  /** The device that asked (x-hwid): its own key instead of the access's. */
  device?: DeviceKey;
  /** An active access this request may not use (too many devices, no hwid where one is required). */
  blocked?: 'device_limit' | 'hwid_required';
  devices?: number;
  /** null or undefined = no device limit. */
  deviceLimit?: number | null;
  /** The nodes to list (ACCESS_NODES=location); none = the home node only. */
  listed?: ListedNode[];
}

export interface DeviceKey {
  uuid: string;
}

export function accessViewFromRow(row: Row, opts: ViewOptions): AccessView {
  const paidState = accessState(row, opts.now);
  // Paid but its traffic is used up (infra/quota/enforce.ts): the clients are off the nodes, say why.
  const suspended = paidState === 'active' && row.suspended_at != null;
  const state = suspended ? 'suspended' : paidState === 'active' && opts.blocked ? opts.blocked : paidState;
  const end = new Date(row.expires_at);
  return {
    state,
    nodes:
      state === 'active'
        ? nodesOfRow(row, opts.device, opts.listed)
        : [placeholderNode(state, opts.language, opts.renewAt)],
    // The current quota period's usage against its allowance (limit + traffic packs; 0 = unlimited).
    uploadBytes: Number(row.period_upload_bytes ?? row.upload_bytes),
    downloadBytes: Number(row.period_download_bytes ?? row.download_bytes),
    totalBytes:
      row.traffic_limit_bytes == null
        ? 0
        : Number(row.traffic_limit_bytes) + Number(row.traffic_extra_bytes ?? 0),
    // A revoked or refunded access ends now even if its paid end was later: clients must see it expired.
    expireAt: state === 'revoked' ? new Date(opts.now.getTime() - 1000) : end,
    title: `VPN · ${row.tariff_name}`,
    tariffName: String(row.tariff_name),
    devices: opts.devices ?? 1,
    deviceLimit: opts.deviceLimit ?? 0,
  };
}
