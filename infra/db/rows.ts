// Row shapes of our tables as node-postgres returns them: snake_case columns; bigint and numeric as strings,
// timestamptz as Date, jsonb parsed. One interface per table (columns from infra/db/migrations/), plus the
// projections several modules share. A query that selects a subset names it with Pick<XRow, ...>.
// Other features add columns in parallel: add them here with their migration.

/**
 * The one loose row type: the default of sql()/sqlOne() and Query for ad-hoc projections (joins, aggregates,
 * `count(*)`) that are no table's row. Reads of one table, or rows passed between functions, use a named type below.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; the single justified loose row type.
export type LooseRow = Record<string, any>;

export type Uuid = string;
/** numeric(12,2): node-postgres returns it as a string ("199.00") so money never passes through a float. */
export type Numeric = string;
/** bigint (Telegram ids, byte counters): a string, since values can exceed 2^53. */
export type BigIntText = string;

export interface UserRow {
  id: Uuid;
  telegram_id: BigIntText;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  language: string;
  referral: string | null;
  is_blocked: boolean;
  referral_code: string | null;
  referred_by: Uuid | null;
  start_payload: string | null;
  banned_at: Date | null;
  ban_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface TariffRow {
  id: number;
  slug: string;
  name: string;
  description: string;
  price: Numeric;
  currency: string;
  duration_seconds: number;
  star_price: number | null;
  location: string | null;
  is_active: boolean;
  display_order: number;
  traffic_limit_bytes: BigIntText | null;
  traffic_reset: 'never' | 'monthly' | 'period';
  device_limit: number | null;
  locations: string[];
  kind: 'subscription' | 'traffic_pack';
  traffic_pack_bytes: BigIntText | null;
  created_at: Date;
}

export interface VpnNodeRow {
  id: Uuid;
  name: string;
  host: string;
  port: number;
  location: string;
  country_code: string;
  capacity: number;
  driver: 'agent' | 'ssh';
  agent_url: string | null;
  agent_token: string | null;
  agent_cert_sha256: string | null;
  ssh: Record<string, unknown> | null;
  reality_public_key: string;
  reality_short_id: string;
  reality_server_name: string;
  status: 'up' | 'down' | 'disabled';
  consecutive_failures: number;
  client_count: number;
  last_health_check: Date | null;
  last_error: string | null;
  created_at: Date;
  /** Set while a drain moves the node's accesses away (out of selection). Migration 20261203040000. */
  draining_at: Date | null;
  /** Since when the node is down, kept by a trigger (NODE_DEAD_MIGRATE_AFTER). */
  down_since: Date | null;
}

export interface PaymentRow {
  id: Uuid;
  user_id: Uuid;
  /** null only for a balance top-up. */
  tariff_id: number | null;
  provider: 'yookassa' | 'stars' | 'balance' | 'free';
  provider_payment_id: string | null;
  status: 'pending' | 'succeeded' | 'canceled' | 'expired' | 'refunded';
  amount: Numeric;
  currency: string;
  purpose: 'subscription' | 'topup' | 'gift' | 'traffic_pack' | 'upgrade';
  list_price: Numeric | null;
  refunded_amount: Numeric;
  confirmation_url: string | null;
  cancellation_reason: string | null;
  telegram_payment_charge_id: string | null;
  refund_id: string | null;
  subscription_id: Uuid | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  expires_at: Date | null;
  paid_at: Date | null;
  refunded_at: Date | null;
}

export interface SubscriptionRow {
  id: Uuid;
  user_id: Uuid;
  tariff_id: number;
  node_id: Uuid;
  status: 'active' | 'revoking' | 'expired' | 'refunded';
  client_uuid: Uuid;
  client_email: string;
  subscription_token: string;
  starts_at: Date;
  expires_at: Date;
  upload_bytes: BigIntText;
  download_bytes: BigIntText;
  suspended_at: Date | null;
  // The traffic quota's current period (migration 20261203030000).
  period_upload_bytes: BigIntText;
  period_download_bytes: BigIntText;
  traffic_period: string | null;
  traffic_extra_bytes: BigIntText;
  /** When an app first fetched the subscription URL: it follows a drain's move by itself. */
  sub_fetched_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface SubscriptionEventRow {
  id: BigIntText;
  subscription_id: Uuid | null;
  payment_id: Uuid | null;
  type: string;
  data: Record<string, unknown>;
  created_at: Date;
}

export interface NotificationRow {
  dedupe_key: string;
  telegram_id: BigIntText;
  kind: string;
  status: 'sending' | 'sent' | 'blocked' | 'failed';
  created_at: Date;
  sent_at: Date | null;
}

export interface AdminActionRow {
  id: BigIntText;
  admin: string;
  action: string;
  target: string | null;
  params: Record<string, unknown>;
  result: 'ok' | 'refused' | 'failed';
  detail: string | null;
  created_at: Date;
}

export interface FreeGrantRow {
  id: string;
  user_id: Uuid;
  reason: 'trial' | 'promo_days' | 'referral' | 'gift' | 'admin';
  duration_seconds: number;
  subscription_id: Uuid | null;
  outcome: 'activated' | 'extended' | 'superseded' | 'failed' | null;
  created_at: Date;
  applied_at: Date | null;
}

export interface ReferralRewardRow {
  id: BigIntText;
  referee_user_id: Uuid;
  referrer_user_id: Uuid;
  payment_id: Uuid;
  bonus_seconds: number;
  welcome_seconds: number;
  welcome_subscription_id: Uuid | null;
  welcome_granted_at: Date | null;
  status: 'pending' | 'granted' | 'clawed_back';
  subscription_id: Uuid | null;
  granted_at: Date | null;
  clawed_back_seconds: number | null;
  clawed_back_at: Date | null;
  created_at: Date;
}

export interface GiftRow {
  id: Uuid;
  code: string;
  code_hash: string;
  payment_id: Uuid;
  buyer_user_id: Uuid;
  tariff_id: number;
  status: 'unclaimed' | 'claimed' | 'refunding' | 'refunded';
  claim_until: Date;
  claimed_by: Uuid | null;
  claimed_at: Date | null;
  subscription_id: Uuid | null;
  refunded_at: Date | null;
  created_at: Date;
}

export interface DeviceRow {
  id: Uuid;
  subscription_id: Uuid;
  name: string;
  hwid: string | null;
  client_uuid: Uuid;
  client_email: string;
  created_at: Date;
  removed_at: Date | null;
  /** x-device-os / x-device-model an app sent with its x-hwid (migration 20261204040000). */
  os?: string | null;
  model?: string | null;
}

/**
 * What every "what does this user connect with" query selects (infra/access.ts ACCESS_SELECT): the subscription,
 * its user's Telegram id, its tariff's name and its node's Reality endpoint.
 */
export type AccessRow = Pick<
  SubscriptionRow,
  | 'id'
  | 'status'
  | 'expires_at'
  | 'client_uuid'
  | 'subscription_token'
  | 'upload_bytes'
  | 'download_bytes'
  | 'period_upload_bytes'
  | 'period_download_bytes'
  | 'traffic_extra_bytes'
  | 'suspended_at'
> &
  Pick<TariffRow, 'traffic_limit_bytes'> &
  Partial<Pick<SubscriptionRow, 'sub_fetched_at'>> &
  Pick<TariffRow, 'device_limit'> &
  Pick<UserRow, 'telegram_id' | 'language'> &
  Pick<VpnNodeRow, 'host' | 'port' | 'reality_public_key' | 'reality_short_id' | 'reality_server_name'> & {
    tariff_name: string;
    node_name: string;
    /** Devices added beside the access's own key (ACCESS_SELECT counts them). */
    added_devices: number;
  };
