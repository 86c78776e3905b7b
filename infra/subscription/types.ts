/** One VLESS + Reality server a client may connect to (today an access has exactly one). */
export interface SubscriptionNode {
  /** Shown by clients as the server's name. */
  name: string;
  host: string;
  port: number;
  uuid: string;
  flow: string;
  serverName: string;
  publicKey: string;
  shortId: string;
  /** uTLS fingerprint the client imitates. */
  fingerprint: string;
}

/** Why an access gets a placeholder instead of its servers. */
export type BlockedReason = 'expired' | 'revoked' | 'suspended' | 'device_limit' | 'hwid_required';

export type AccessState = 'active' | BlockedReason;

/** Everything every format is rendered from: the same data for each client. */
export interface AccessView {
  state: AccessState;
  /** Real servers while active; a single placeholder entry otherwise. */
  nodes: SubscriptionNode[];
  uploadBytes: number;
  downloadBytes: number;
  /** Traffic limit in bytes; 0 = unlimited. */
  totalBytes: number;
  expireAt: Date;
  /** Profile name clients show (any script: sent base64-encoded). */
  title: string;
  tariffName: string;
  devices: number;
  /** 0 = no device limit. */
  deviceLimit: number;
}

/** Where a user renews and asks for help, and where the subscription and its page live. */
export interface SubscriptionLinks {
  subscriptionUrl: string;
  pageUrl: string;
  supportUrl?: string;
  /** https://t.me/<bot>, when BOT_USERNAME is configured. */
  renewUrl?: string;
}

export interface RenderedSubscription {
  body: string;
  headers: Record<string, string>;
}
