import type { AccessRow } from '../db/rows';
import { VISION_FLOW } from '../xray/link';
import { type PageLanguage, placeholderNode } from './placeholder';
import type { AccessState, AccessView, SubscriptionNode } from './types';

/** A row selected with ACCESS_SELECT (infra/access.ts). */
type Row = AccessRow;

/** The access's one node today (subscriptions.node_id); several per access come with a later issue. */
export function nodesOfRow(row: Row, device?: DeviceKey): SubscriptionNode[] {
  return [
    {
      name: `${row.node_name}-${row.telegram_id}`,
      host: row.host,
      port: Number(row.port),
      uuid: device?.uuid ?? row.client_uuid,
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
}

export interface DeviceKey {
  uuid: string;
}

export function accessViewFromRow(row: Row, opts: ViewOptions): AccessView {
  const paidState = accessState(row, opts.now);
  const state = paidState === 'active' && opts.blocked ? opts.blocked : paidState;
  const end = new Date(row.expires_at);
  return {
    state,
    nodes:
      state === 'active'
        ? nodesOfRow(row, opts.device)
        : [placeholderNode(state, opts.language, opts.renewAt)],
    uploadBytes: Number(row.upload_bytes),
    downloadBytes: Number(row.download_bytes),
    totalBytes: 0, // no traffic limits yet: 0 = unlimited
    // A revoked or refunded access ends now even if its paid end was later: clients must see it expired.
    expireAt: state === 'revoked' ? new Date(opts.now.getTime() - 1000) : end,
    title: `VPN · ${row.tariff_name}`,
    tariffName: String(row.tariff_name),
    devices: opts.devices ?? 1,
    deviceLimit: opts.deviceLimit ?? 0,
  };
}
