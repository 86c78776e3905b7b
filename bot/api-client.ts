import { z } from 'zod';
import {
  type AdminRecord,
  anyObject,
  changeAnswerSchema,
  changeQuoteSchema,
  configSchema,
  paymentInfoSchema,
  paymentSchema,
  registeredSchema,
  statusSchema,
  type Tariff,
  tariffSchema,
} from './api-schemas';
import {
  deviceCreatedSchema,
  deviceListSchema,
  deviceRemovedSchema,
  deviceRenamedSchema,
} from './device-schemas';

export type {
  AdminRecord,
  CreatedPayment,
  PaymentInfo,
  SubscriptionConfig,
  SubscriptionStatus,
  Tariff,
} from './api-schemas';

/** Typed client for the contract's bot-facing and admin HTTP API. The bot talks to nothing else. */

/** The API could not be reached, timed out or answered 5xx: a "come back later" for the user. */
const referralSchema = z.object({
  link: z.string().nullable(),
  code: z.string(),
  invited: z.number(),
  rewarded: z.number(),
  bonus_days_earned: z.number(),
});
const giftClaimSchema = z.object({ subscription_id: z.string(), end_date: z.string() });
const myGiftsSchema = z.object({
  gifts: z.array(
    z
      .object({
        tariff_name: z.string(),
        status: z.string(),
        claim_until: z.string(),
        claimed_at: z.string().nullish(),
        start_parameter: z.string().nullish(),
        link: z.string().nullish(),
      })
      .passthrough(),
  ),
});
export type MyGift = z.infer<typeof myGiftsSchema>['gifts'][number];
// Balance, cancel and the admin refund (helper botmoney).
const balanceSchema = z.object({
  balance: z.string(),
  currency: z.string(),
  entries: z.array(
    z.object({ amount: z.string(), reason: z.string(), reference: z.string(), created_at: z.string() }),
  ),
  /** Roubles per Star when top-ups by Stars are on (absent from an older API: off). */
  topup_star_rate: z.string().nullable().optional(),
});
export type Balance = z.infer<typeof balanceSchema>;
const cancelPreviewSchema = z.object({
  refund_available: z.boolean(),
  refund_amount: z.string(),
  currency: z.string(),
  refund_to: z.array(z.string()),
  end_date: z.string(),
  auto_renewal: z.boolean(),
});
export type CancelPreview = z.infer<typeof cancelPreviewSchema>;
const cancelAnswerSchema = z.object({ refunded_amount: z.string(), revoked: z.boolean() });
const adminRefundSchema = z
  .object({
    refund_id: z.string(),
    amount: z.string(),
    currency: z.string(),
    to: z.enum(['provider', 'balance']),
    status: z.string(),
    access_expires_at: z.string().nullish(),
  })
  .passthrough();
const promoCodeSchema = z
  .object({
    code: z.string(),
    kind: z.string(),
    value: z.string(),
    max_uses: z.number().nullish(),
    is_active: z.boolean(),
    stats: z.object({
      activations: z.number(),
      users: z.number(),
      revenue: z.string(),
      revenue_stars: z.number(),
      discount_given: z.string(),
    }),
  })
  .passthrough();
export type PromoCodeStats = z.infer<typeof promoCodeSchema>;

export class ApiUnavailableError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    /** The HTTP status when the API answered 5xx (503 = the payment provider is down). */
    readonly status?: number,
  ) {
    super(`API unavailable (${path}): ${reason}`);
    this.name = 'ApiUnavailableError';
  }
}

/** The API answered 4xx: the request was understood and refused (unknown user, bad field, …). */
export class ApiRequestError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`API ${path} answered ${status}: ${JSON.stringify(body)?.slice(0, 300)}`);
    this.name = 'ApiRequestError';
  }
}

/** The admin API's promo-code body (contract v2), as /newcode builds it. */
export interface NewPromoCode {
  code: string;
  kind: 'percent' | 'amount' | 'days';
  value: number;
  max_uses?: number;
  valid_until?: string;
}

/** The admin API's broadcast body (contract v2), as the bot's draft screens build it. */
export interface NewBroadcast {
  text: string;
  photo_url?: string;
  buttons?: Array<Array<{ text: string; url: string }>>;
  audience: {
    segment: 'all' | 'active' | 'expired' | 'trial' | 'never_paid';
    expired_within_days?: number;
    language?: string;
    location?: string;
    telegram_ids?: number[];
  };
}
const broadcastProgressSchema = z
  .object({
    broadcast_id: z.string(),
    state: z.string(),
    total: z.number(),
    sent: z.number(),
    failed: z.number(),
    blocked: z.number(),
    pending: z.number().optional(),
  })
  .passthrough();
export type BroadcastProgressView = z.infer<typeof broadcastProgressSchema>;
const broadcastItemSchema = broadcastProgressSchema.extend({
  created_at: z.string(),
  created_by: z.string(),
  text: z.string(),
});
export type BroadcastListItem = z.infer<typeof broadcastItemSchema>;
const nodeDrainSchema = z
  .object({ state: z.string(), moved: z.number(), remaining: z.number(), failed: z.number() })
  .passthrough();
const nodeCardSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    location: z.string(),
    status: z.string(),
    capacity: z.number(),
    active_subscriptions: z.number(),
    client_count: z.number(),
    last_error: z.string().nullish(),
    drain: nodeDrainSchema.nullish(),
  })
  .passthrough();
export type NodeCard = z.infer<typeof nodeCardSchema>;

export type AdminUserAction = 'extend' | 'revoke' | 'resend-key' | 'block' | 'unblock';

export interface RegisterInput {
  telegram_id: number;
  username?: string;
  first_name?: string;
  last_name?: string;
  language_code?: string;
  /** The /start payload, kept for referral attribution. */
  referral?: string;
  /** The /start parameter (ref_<code>, gift_<code>): the API keeps it at first registration only. */
  start_payload?: string;
}

export interface ApiClientConfig {
  baseUrl: string;
  apiToken: string;
  /** The bearer for the admin screens: the read-only ADMIN_READ_TOKEN (GET /api/v1/admin/* only). */
  adminToken?: string;
  /** ADMIN_BOT_TOKEN (the API's `bot` named token): admin writes on behalf of the tapping admin. */
  adminBotToken?: string;
  timeoutMs?: number;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(config: ApiClientConfig) {
  const base = config.baseUrl.replace(/\/+$/, '');
  const defaultTimeout = config.timeoutMs ?? 8000;

  async function request<T>(
    schema: z.ZodType<T, z.ZodTypeDef, unknown>,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: {
      body?: unknown;
      admin?: boolean;
      /** A write as this Telegram admin: the bot's named token plus X-Admin-Telegram-Id. */
      actingAdmin?: number;
      timeoutMs?: number;
      notFoundAsNull?: boolean;
      headers?: Record<string, string>;
    } = {},
  ): Promise<T> {
    const token =
      opts.actingAdmin !== undefined
        ? config.adminBotToken
        : opts.admin
          ? config.adminToken
          : config.apiToken;
    const acting: Record<string, string> =
      opts.actingAdmin !== undefined ? { 'x-admin-telegram-id': String(opts.actingAdmin) } : {};
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${token ?? ''}`,
          accept: 'application/json',
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...acting,
          ...opts.headers,
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? defaultTimeout),
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      throw new ApiUnavailableError(
        path,
        e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? String(err)),
      );
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (res.status >= 500) throw new ApiUnavailableError(path, `HTTP ${res.status}`, res.status);
    // A malformed id (422) names no payment either: the caller treats both as "no such payment".
    if ((res.status === 404 || res.status === 422) && opts.notFoundAsNull) return null as T;
    if (res.status >= 400) throw new ApiRequestError(path, res.status, body);
    return schema.parse(body);
  }

  const id = (v: string | number) => encodeURIComponent(String(v));

  return {
    /** With a telegram id the API records a catalog view (the admin's conversion figure). */
    async listTariffs(telegramId?: number): Promise<Tariff[]> {
      const path = telegramId ? `/api/v1/tariffs?telegram_id=${id(telegramId)}` : '/api/v1/tariffs';
      return (await request(z.object({ tariffs: z.array(tariffSchema) }), 'GET', path)).tariffs;
    },
    registerUser: (input: RegisterInput) =>
      request(registeredSchema, 'POST', '/api/v1/users/register', { body: input }),
    referral: (telegramId: number) =>
      request(referralSchema, 'GET', `/api/v1/users/${id(telegramId)}/referral`),
    /** The gifts this user bought, newest first, with the link while claimable. */
    myGifts: (telegramId: number) =>
      request(myGiftsSchema, 'GET', `/api/v1/users/${id(telegramId)}/gifts`).then((b) => b.gifts),
    /** 200 the access; ApiRequestError 409 gift_claimed / own_gift, 410 gift_expired, 404 gift_not_found. */
    claimGift: (code: string, telegramId: number) =>
      request(giftClaimSchema, 'POST', `/api/v1/gifts/${id(code)}/claim`, {
        body: { telegram_id: telegramId },
        timeoutMs: 40_000,
      }),
    /**
     * `idempotencyKey` makes a repeated call (a retry, Telegram redelivering the same tap) return the
     * payment the first call created instead of starting a second purchase.
     */
    createPayment: (
      input: {
        telegram_id: number;
        tariff_id: string;
        provider: 'yookassa' | 'stars' | 'balance';
        promo_code?: string;
        purpose?: 'subscription' | 'gift';
        /** Auto-renew consent: the user saw the consent text and chose "pay and turn on auto-renew". */
        save_payment_method?: true;
      },
      idempotencyKey?: string,
    ) =>
      request(paymentSchema, 'POST', '/api/v1/payments/create', {
        body: input,
        timeoutMs: 20_000,
        headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined,
      }),
    /** A card top-up of `amount` RUB (purpose `topup`); one key per tap or typed message. */
    createTopUp: (
      telegramId: number,
      amount: string,
      idempotencyKey?: string,
      provider: 'yookassa' | 'stars' = 'yookassa',
    ) =>
      request(paymentSchema, 'POST', '/api/v1/payments/create', {
        body: { telegram_id: telegramId, purpose: 'topup', amount, provider },
        timeoutMs: 20_000,
        headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined,
      }),
    /** The balance and its latest entries, newest first; null for a user the API does not know. */
    balance: (telegramId: number) =>
      request(balanceSchema.nullable(), 'GET', `/api/v1/users/${id(telegramId)}/balance`, {
        notFoundAsNull: true,
      }),
    /** What a cancel would do now; null when there is no active access. */
    cancelPreview: (telegramId: number) =>
      request(cancelPreviewSchema.nullable(), 'GET', `/api/v1/subscriptions/${id(telegramId)}/cancel`, {
        notFoundAsNull: true,
      }),
    /** The cancel: with `refund` the access ends now and the unused part goes back (the API waits ~20 s). */
    cancelSubscription: (telegramId: number, refund: boolean) =>
      request(cancelAnswerSchema, 'POST', `/api/v1/subscriptions/${id(telegramId)}/cancel`, {
        body: { refund },
        timeoutMs: 30_000,
      }),
    retryPayment: (paymentId: string) =>
      request(paymentSchema, 'POST', `/api/v1/payments/${id(paymentId)}/retry`, { timeoutMs: 20_000 }),
    /** Null for an unknown payment. Short timeout: pre_checkout_query must be answered within 10 s. */
    getPayment: (paymentId: string, timeoutMs = 5000) =>
      request(paymentInfoSchema.nullable(), 'GET', `/api/v1/payments/${id(paymentId)}`, {
        timeoutMs,
        notFoundAsNull: true,
      }),
    confirmStarsPayment: (input: {
      telegram_id: number;
      payload: string;
      telegram_payment_charge_id: string;
      total_amount: number;
      is_recurring?: boolean;
      is_first_recurring?: boolean;
      subscription_expiration_date?: number;
    }) => request(anyObject.nullish(), 'POST', '/api/v1/payments/stars/confirm', { body: input }),
    /** Null for a user the API does not know. */
    /** Auto-renew on/off (bot/handlers/auto-renew.ts). */
    setAutoRenew: (telegramId: number, enabled: boolean) =>
      request(anyObject, 'PUT', `/api/v1/subscriptions/${telegramId}/auto-renew`, { body: { enabled } }),
    subscriptionStatus: (telegramId: number) =>
      request(statusSchema.nullable(), 'GET', `/api/v1/subscriptions/${telegramId}/status`, {
        notFoundAsNull: true,
      }),
    /** Null when there is no active subscription. */
    subscriptionConfig: (telegramId: number) =>
      request(configSchema.nullable(), 'GET', `/api/v1/subscriptions/${telegramId}/config`, {
        notFoundAsNull: true,
      }),

    /** Devices of the active access (bot/handlers/devices.ts); list is null without an active access. */
    devices: {
      list: (telegramId: number) =>
        request(deviceListSchema.nullable(), 'GET', `/api/v1/subscriptions/${id(telegramId)}/devices`, {
          notFoundAsNull: true,
        }),
      /** 201 the key; ApiRequestError 409 device_limit; ApiUnavailableError 503 node_unavailable. */
      add: (telegramId: number, name?: string) =>
        request(deviceCreatedSchema, 'POST', `/api/v1/subscriptions/${id(telegramId)}/devices`, {
          body: name ? { name } : {},
          timeoutMs: 30_000, // waits for the node to carry the key
        }),
      rename: (telegramId: number, deviceId: string, name: string) =>
        request(
          deviceRenamedSchema,
          'PATCH',
          `/api/v1/subscriptions/${id(telegramId)}/devices/${id(deviceId)}`,
          { body: { name } },
        ),
      remove: (telegramId: number, deviceId: string) =>
        request(
          deviceRemovedSchema,
          'DELETE',
          `/api/v1/subscriptions/${id(telegramId)}/devices/${id(deviceId)}`,
          { timeoutMs: 30_000 }, // waits for the node to drop the key
        ),
    },

    /** Plan change (bot/handlers/plan-change.ts). Null when there is no active access to change. */
    changeQuote: (telegramId: number) =>
      request(changeQuoteSchema.nullable(), 'GET', `/api/v1/subscriptions/${id(telegramId)}/change`, {
        notFoundAsNull: true,
      }),
    changePlan: (telegramId: number, tariffId: string) =>
      request(changeAnswerSchema, 'POST', `/api/v1/subscriptions/${id(telegramId)}/change`, {
        body: { tariff_id: tariffId },
        timeoutMs: 30_000,
      }),

    /** Trials and promo codes (bot/handlers/growth.ts). */
    trialStatus: (telegramId: number) =>
      request(
        z.object({ available: z.boolean(), duration_seconds: z.number() }).nullable(),
        'GET',
        `/api/v1/trials/${id(telegramId)}`,
        { notFoundAsNull: true },
      ),
    startTrial: (telegramId: number) =>
      request(z.object({ subscription_id: z.string(), end_date: z.string() }), 'POST', '/api/v1/trials', {
        body: { telegram_id: telegramId },
      }),
    redeemPromo: (telegramId: number, code: string) =>
      request(
        z.object({
          kind: z.enum(['percent', 'amount', 'days']),
          days_added: z.number().optional(),
          value: z.string().optional(),
        }),
        'POST',
        '/api/v1/promo/redeem',
        { body: { telegram_id: telegramId, code } },
      ),

    hasAdminToken: () => Boolean(config.adminToken),
    admin: {
      stats: () => request(anyObject, 'GET', '/api/v1/admin/stats', { admin: true }),
      stuckPurchases: (query: { stage?: string; olderThan?: string } = {}) => {
        const qs = new URLSearchParams();
        if (query.stage) qs.set('stage', query.stage);
        if (query.olderThan) qs.set('older_than', query.olderThan);
        const suffix = qs.size ? `?${qs}` : '';
        return request(z.unknown(), 'GET', `/api/v1/admin/purchases${suffix}`, { admin: true }).then(
          listOf('purchases'),
        );
      },
      /** By Telegram id, or by username (without "@"); null if not found. */
      findUser: (idOrUsername: string) =>
        request(anyObject.nullable(), 'GET', `/api/v1/admin/users/${id(idOrUsername)}`, {
          admin: true,
          notFoundAsNull: true,
        }),
      nodes: () => request(z.unknown(), 'GET', '/api/v1/admin/nodes', { admin: true }).then(listOf('nodes')),
      /** A user's story, oldest first (payments, stages, events, messages, admin actions). */
      timeline: (telegramId: string | number) =>
        request(
          z.object({ entries: z.array(z.object({ at: z.string(), kind: z.string(), summary: z.string() })) }),
          'GET',
          `/api/v1/admin/users/${id(telegramId)}/timeline`,
          { admin: true },
        ).then((b) => b.entries),
      /** POST /api/v1/admin/users/{id}/<action>, as the admin who tapped (the audit says tg:<admin>). */
      actOnUser: (admin: number, telegramId: string | number, action: AdminUserAction, body: object = {}) =>
        request(anyObject, 'POST', `/api/v1/admin/users/${id(telegramId)}/${action}`, {
          actingAdmin: admin,
          body,
          timeoutMs: 30_000, // revoke waits for the node
        }),
      /** POST /api/v1/admin/promo-codes as the admin who sent /newcode (the audit says tg:<admin>). */
      createPromoCode: (admin: number, body: NewPromoCode) =>
        request(promoCodeSchema, 'POST', '/api/v1/admin/promo-codes', { actingAdmin: admin, body }),
      /** POST /api/v1/admin/payments/{id}/refund as the tapping admin (the audit says tg:<admin>). */
      refundPayment: (
        admin: number,
        paymentId: string,
        body: { amount?: string; to: 'provider' | 'balance'; reason: string },
        idempotencyKey?: string,
      ) =>
        request(adminRefundSchema, 'POST', `/api/v1/admin/payments/${id(paymentId)}/refund`, {
          actingAdmin: admin,
          body,
          timeoutMs: 30_000, // the API waits for the provider's answer
          headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined,
        }),
      /** Broadcasts (bot/handlers/admin-broadcast.ts): writes as the tapping admin, reads with the read token. */
      broadcastRecipients: (admin: number, body: NewBroadcast) =>
        request(z.object({ recipients: z.number() }), 'POST', '/api/v1/admin/broadcasts', {
          actingAdmin: admin,
          body: { ...body, dry_run: true },
        }).then((b) => b.recipients),
      startBroadcast: (admin: number, body: NewBroadcast) =>
        request(
          z.object({ broadcast_id: z.string(), recipients: z.number() }),
          'POST',
          '/api/v1/admin/broadcasts',
          { actingAdmin: admin, body, timeoutMs: 30_000 },
        ),
      broadcast: (broadcastId: string) =>
        request(broadcastProgressSchema, 'GET', `/api/v1/admin/broadcasts/${id(broadcastId)}`, {
          admin: true,
        }),
      broadcasts: (limit = 8) =>
        request(
          z.object({ broadcasts: z.array(broadcastItemSchema) }),
          'GET',
          `/api/v1/admin/broadcasts?limit=${limit}`,
          { admin: true },
        ).then((b) => b.broadcasts),
      controlBroadcast: (admin: number, broadcastId: string, verb: 'pause' | 'resume' | 'cancel') =>
        request(broadcastProgressSchema, 'POST', `/api/v1/admin/broadcasts/${id(broadcastId)}/${verb}`, {
          actingAdmin: admin,
        }),
      /** One node with its drain's progress (bot/handlers/admin-nodes.ts). */
      node: (nodeId: string) =>
        request(nodeCardSchema.nullable(), 'GET', `/api/v1/admin/nodes/${id(nodeId)}`, {
          admin: true,
          notFoundAsNull: true,
        }),
      /** POST /api/v1/admin/nodes/{id}/enable|disable|drain as the tapping admin (audited tg:<admin>). */
      actOnNode: (admin: number, nodeId: string, verb: 'enable' | 'disable' | 'drain') =>
        request(anyObject, 'POST', `/api/v1/admin/nodes/${id(nodeId)}/${verb}`, { actingAdmin: admin }),
      /** Promo codes with their stats (activations, users, revenue). */
      promoCodes: () =>
        request(z.object({ codes: z.array(promoCodeSchema) }), 'GET', '/api/v1/admin/promo-codes', {
          admin: true,
        }).then((b) => b.codes),
    },
    hasAdminBotToken: () => Boolean(config.adminBotToken),
  };
}

/** Admin lists may come bare (`[...]`) or wrapped (`{"nodes": [...]}`); both read as an array of records. */
function listOf(key: string) {
  return (body: unknown): AdminRecord[] => {
    const list = Array.isArray(body) ? body : (body as Record<string, unknown> | null)?.[key];
    return Array.isArray(list) ? (list.filter((x) => x && typeof x === 'object') as AdminRecord[]) : [];
  };
}
