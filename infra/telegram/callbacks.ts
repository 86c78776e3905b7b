import type { GuideOs } from '../i18n';

/**
 * Compact callback_data: "<code>[:<arg>]", e.g. "pc:<tariff id>". Telegram allows 1-64 bytes, so every
 * encoding is checked; an id too long to fit is a bug that must fail loudly, not a silently dead button.
 * Notification messages (sent by the worker) use these same encodings for their Renew/Retry/Guide buttons.
 */

export const MAX_CALLBACK_BYTES = 64;

export type AdminView = 'menu' | 'stats' | 'stuck' | 'nodes' | 'find';

/** A button on the admin's user card (bot/handlers/admin-user.ts); `*_yes` are the confirmed forms. */
export const ADMIN_USER_OPS = [
  'card',
  'extend7',
  'extend30',
  'resend',
  'revoke',
  'revoke_yes',
  'block',
  'block_yes',
  'unblock',
  'timeline',
  'refund',
] as const;
export type AdminUserOp = (typeof ADMIN_USER_OPS)[number];

/** Device screens (bot/handlers/devices.ts): list, add, one device's card, rename, remove and its confirmed form. */
const DEVICE_OP_CODES = {
  list: 'l',
  add: 'a',
  card: 'c',
  rename: 'r',
  remove: 'x',
  remove_yes: 'y',
} as const;
export type DeviceOp = keyof typeof DEVICE_OP_CODES;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Broadcast screens (bot/handlers/admin-broadcast.ts); `arg` is a broadcast id, a segment, a language, … */
export const ADMIN_BROADCAST_OPS = [
  'list',
  'new',
  'seg',
  'lang',
  'loc',
  'ids',
  'preview',
  'send',
  'drop',
  'show',
  'pause',
  'resume',
  'cancel',
  'cancel_yes',
] as const;
export type AdminBroadcastOp = (typeof ADMIN_BROADCAST_OPS)[number];
/** Node screens (bot/handlers/admin-nodes.ts); `nodeId` for all but the list. */
export const ADMIN_NODE_OPS = ['list', 'card', 'enable', 'disable', 'drain', 'drain_yes'] as const;
export type AdminNodeOp = (typeof ADMIN_NODE_OPS)[number];

/**
 * `keep: true` marks buttons under messages that must stay in the chat (notifications, the message with the
 * key): their screen opens as a new message instead of replacing that one. Encoded as a leading "+".
 */
export type CallbackAction = ActionBody & { keep?: boolean };

type ActionBody =
  | { type: 'menu' }
  | { type: 'tariffs' }
  | { type: 'renew' }
  | { type: 'tariff'; tariffId: string; promo?: string }
  | { type: 'pay'; method: 'card' | 'stars'; tariffId: string; promo?: string }
  | { type: 'trial' }
  | { type: 'promo' }
  | { type: 'retry'; paymentId: string }
  | { type: 'subscription' }
  | { type: 'guides' }
  | { type: 'guide'; os: GuideOs }
  | { type: 'support' }
  | { type: 'admin'; view: AdminView }
  | { type: 'adminUser'; op: AdminUserOp; telegramId: string }
  | { type: 'adminBroadcast'; op: AdminBroadcastOp; arg?: string }
  | { type: 'adminNode'; op: AdminNodeOp; nodeId?: string }
  | { type: 'referral' }
  | { type: 'gift'; tariffId: string }
  | { type: 'myGifts' }
  | { type: 'changePlan' }
  | { type: 'changeTo'; tariffId: string }
  /** Auto-renew: the consent screen of a tariff, paying with consent, and the toggle in "My subscription". */
  | { type: 'renewConsent'; tariffId: string }
  /** `stars`: a Stars subscription (30-day tariffs); otherwise the card. */
  | { type: 'payAutoRenew'; tariffId: string; method?: 'stars' }
  | { type: 'autoRenew'; on: boolean }
  /** Devices (botdevices): `deviceId` for the ops on one device. */
  | { type: 'devices'; op: DeviceOp; deviceId?: string }
  // Balance, top-up, pay from balance, cancel and the admin refund (helper botmoney, bot/handlers/*).
  | { type: 'balance' }
  | { type: 'topUp'; amount: number; method?: 'stars' }
  | { type: 'topUpOther' }
  | { type: 'payBalance'; tariffId: string }
  | { type: 'cancelAsk' }
  | { type: 'cancelDo'; refund: boolean }
  | { type: 'refundPick'; telegramId: string; paymentId: string }
  | { type: 'refundTo'; telegramId: string; paymentId: string; to: RefundTo }
  | { type: 'refundYes'; telegramId: string; paymentId: string; to: RefundTo; cents: number };

export type RefundTo = 'provider' | 'balance';

/** A payment uuid as 22 base64url characters, so an admin refund button fits in 64 bytes. */
const packUuid = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url');
function unpackUuid(packed: string | undefined): string | null {
  if (!packed || !/^[A-Za-z0-9_-]{22}$/.test(packed)) return null;
  const hex = Buffer.from(packed, 'base64url').toString('hex');
  if (hex.length !== 32) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
const TO_CODE: Record<RefundTo, string> = { provider: 'p', balance: 'b' };
const TO_BY_CODE: Record<string, RefundTo> = { p: 'provider', b: 'balance' };

/** The admin-only callbacks (the router checks ADMIN_TELEGRAM_IDS before any of them runs). */
export const ADMIN_ACTION_TYPES: ReadonlySet<CallbackAction['type']> = new Set([
  'admin',
  'adminUser',
  'refundPick',
  'refundTo',
  'refundYes',
]);

const OS_CODES: Record<GuideOs, string> = { ios: 'i', android: 'a', windows: 'w', macos: 'm', linux: 'l' };
const ADMIN_CODES: Record<AdminView, string> = { menu: 'm', stats: 's', stuck: 'p', nodes: 'n', find: 'u' };
const invert = <K extends string>(map: Record<K, string>) =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [v, k])) as Record<string, K>;
const OS_BY_CODE = invert(OS_CODES);
const ADMIN_BY_CODE = invert(ADMIN_CODES);
const DEVICE_OP_BY_CODE = invert<DeviceOp>(DEVICE_OP_CODES);

function raw(action: ActionBody): string {
  switch (action.type) {
    case 'menu':
      return 'm';
    case 'tariffs':
      return 't';
    case 'renew':
      return 'rn';
    case 'tariff':
      return `tr:${action.tariffId}${action.promo ? `:${action.promo}` : ''}`;
    case 'pay':
      return `${action.method === 'card' ? 'pc' : 'ps'}:${action.tariffId}${action.promo ? `:${action.promo}` : ''}`;
    case 'trial':
      return 'tl';
    case 'promo':
      return 'pr';
    case 'retry':
      return `rt:${action.paymentId}`;
    case 'subscription':
      return 's';
    case 'guides':
      return 'g';
    case 'guide':
      return `g:${OS_CODES[action.os]}`;
    case 'support':
      return 'h';
    case 'admin':
      return `a:${ADMIN_CODES[action.view]}`;
    case 'adminUser':
      return `au:${ADMIN_USER_OPS.indexOf(action.op)}:${action.telegramId}`;
    case 'adminBroadcast':
      return `bc:${ADMIN_BROADCAST_OPS.indexOf(action.op)}${action.arg === undefined ? '' : `:${action.arg}`}`;
    case 'adminNode':
      return `nd:${ADMIN_NODE_OPS.indexOf(action.op)}${action.nodeId === undefined ? '' : `:${action.nodeId}`}`;
    case 'referral':
      return 'rf';
    case 'gift':
      return `gf:${action.tariffId}`;
    case 'myGifts':
      return 'gl';
    case 'changePlan':
      return 'cp';
    case 'changeTo':
      return `cg:${action.tariffId}`;
    case 'renewConsent':
      return `rc:${action.tariffId}`;
    case 'payAutoRenew':
      return `pa:${action.tariffId}${action.method === 'stars' ? ':s' : ''}`;
    case 'autoRenew':
      return `ar:${action.on ? 1 : 0}`;
    case 'balance':
      return 'bl';
    case 'topUp':
      return `tu:${action.amount}${action.method === 'stars' ? ':s' : ''}`;
    case 'topUpOther':
      return 'to';
    case 'payBalance':
      return `pb:${action.tariffId}`;
    case 'cancelAsk':
      return 'cx';
    case 'cancelDo':
      return `cd:${action.refund ? 1 : 0}`;
    case 'refundPick':
      return `rk:${action.telegramId}:${packUuid(action.paymentId)}`;
    case 'refundTo':
      return `rd:${TO_CODE[action.to]}:${action.telegramId}:${packUuid(action.paymentId)}`;
    case 'refundYes':
      return `ry:${TO_CODE[action.to]}:${action.telegramId}:${packUuid(action.paymentId)}:${action.cents}`;
    case 'devices':
      return `dv:${DEVICE_OP_CODES[action.op]}${action.deviceId ? `:${action.deviceId}` : ''}`;
  }
}

export function encodeCallback(action: CallbackAction): string {
  const data = (action.keep ? '+' : '') + raw(action);
  const bytes = Buffer.byteLength(data, 'utf8');
  if (bytes > MAX_CALLBACK_BYTES) {
    throw new Error(
      `callback_data for "${action.type}" is ${bytes} bytes; Telegram allows ${MAX_CALLBACK_BYTES}`,
    );
  }
  return data;
}

/** Parses callback_data; null for anything this bot version did not produce (stale or forged buttons). */
export function decodeCallback(data: string | undefined): CallbackAction | null {
  if (data?.startsWith('+')) {
    const action = decodeCallback(data.slice(1));
    return action && !action.keep ? { ...action, keep: true } : null;
  }
  if (!data) return null;
  const sep = data.indexOf(':');
  const code = sep < 0 ? data : data.slice(0, sep);
  const arg = sep < 0 ? '' : data.slice(sep + 1);
  const simple: Record<string, CallbackAction> = {
    m: { type: 'menu' },
    t: { type: 'tariffs' },
    rn: { type: 'renew' },
    s: { type: 'subscription' },
    g: { type: 'guides' },
    h: { type: 'support' },
    tl: { type: 'trial' },
    pr: { type: 'promo' },
    rf: { type: 'referral' },
    gl: { type: 'myGifts' },
    cp: { type: 'changePlan' },
    bl: { type: 'balance' },
    to: { type: 'topUpOther' },
    cx: { type: 'cancelAsk' },
  };
  if (!arg) return sep < 0 ? (simple[code] ?? null) : null;
  switch (code) {
    case 'tr':
    case 'pc':
    case 'ps': {
      // "<tariff id>[:<promo code>]": a promo code rides along on the purchase path's buttons.
      const [tariffId, promo] = arg.split(':');
      if (!tariffId || (promo !== undefined && !/^[A-Z0-9_-]{3,32}$/.test(promo))) return null;
      const extra = promo ? { promo } : {};
      if (code === 'tr') return { type: 'tariff', tariffId, ...extra };
      return { type: 'pay', method: code === 'pc' ? 'card' : 'stars', tariffId, ...extra };
    }
    case 'rt':
      return { type: 'retry', paymentId: arg };
    case 'g':
      return OS_BY_CODE[arg] ? { type: 'guide', os: OS_BY_CODE[arg] } : null;
    case 'a':
      return ADMIN_BY_CODE[arg] ? { type: 'admin', view: ADMIN_BY_CODE[arg] } : null;
    case 'gf':
      return { type: 'gift', tariffId: arg };
    case 'cg':
      return /^\d{1,10}$/.test(arg) ? { type: 'changeTo', tariffId: arg } : null;
    case 'au': {
      const [op, telegramId] = arg.split(':');
      const name = ADMIN_USER_OPS[Number(op)];
      return name && /^\d{1,20}$/.test(telegramId ?? '') ? { type: 'adminUser', op: name, telegramId } : null;
    }
    case 'bc': {
      // "<op index>[:<arg>]": the arg is free-form but short (ids, segment names, languages, locations).
      const at = arg.indexOf(':');
      const op = ADMIN_BROADCAST_OPS[Number(at < 0 ? arg : arg.slice(0, at))];
      const rest = at < 0 ? undefined : arg.slice(at + 1);
      if (!op || (rest !== undefined && !/^[\w.-]{1,40}$/.test(rest))) return null;
      return rest === undefined ? { type: 'adminBroadcast', op } : { type: 'adminBroadcast', op, arg: rest };
    }
    case 'nd': {
      const [op, nodeId] = arg.split(':');
      const name = ADMIN_NODE_OPS[Number(op)];
      if (!name || (nodeId !== undefined && !/^[0-9a-f-]{36}$/.test(nodeId))) return null;
      return nodeId === undefined ? { type: 'adminNode', op: name } : { type: 'adminNode', op: name, nodeId };
    }
    case 'rc':
      return /^\d{1,10}$/.test(arg) ? { type: 'renewConsent', tariffId: arg } : null;
    case 'pa':
      if (/^\d{1,10}:s$/.test(arg))
        return { type: 'payAutoRenew', tariffId: arg.slice(0, -2), method: 'stars' };
      return /^\d{1,10}$/.test(arg) ? { type: 'payAutoRenew', tariffId: arg } : null;
    case 'ar':
      return arg === '1' || arg === '0' ? { type: 'autoRenew', on: arg === '1' } : null;
    case 'tu':
      if (/^\d{1,6}:s$/.test(arg))
        return { type: 'topUp', amount: Number(arg.slice(0, -2)), method: 'stars' };
      return /^\d{1,6}$/.test(arg) ? { type: 'topUp', amount: Number(arg) } : null;
    case 'pb':
      return /^\d{1,10}$/.test(arg) ? { type: 'payBalance', tariffId: arg } : null;
    case 'cd':
      return arg === '1' || arg === '0' ? { type: 'cancelDo', refund: arg === '1' } : null;
    case 'rk':
    case 'rd':
    case 'ry':
      return decodeRefund(code, arg.split(':'));
    case 'dv': {
      const [opCode, deviceId] = arg.split(':');
      const op = DEVICE_OP_BY_CODE[opCode];
      if (!op) return null;
      const needsId = op !== 'list' && op !== 'add';
      if (needsId !== (deviceId !== undefined) || (deviceId !== undefined && !UUID.test(deviceId)))
        return null;
      return { type: 'devices', op, ...(deviceId ? { deviceId } : {}) };
    }
    default:
      return null;
  }
}

/** `rk:<tg>:<payment>`, `rd:<to>:<tg>:<payment>`, `ry:<to>:<tg>:<payment>:<cents>`. */
function decodeRefund(code: string, parts: string[]): CallbackAction | null {
  const [to, rest] = code === 'rk' ? [undefined, parts] : [TO_BY_CODE[parts[0] ?? ''], parts.slice(1)];
  const [telegramId, packed, cents] = rest;
  const paymentId = unpackUuid(packed);
  if (!telegramId || !/^\d{1,20}$/.test(telegramId) || !paymentId) return null;
  if (code === 'rk') return rest.length === 2 ? { type: 'refundPick', telegramId, paymentId } : null;
  if (!to) return null;
  if (code === 'rd') return rest.length === 2 ? { type: 'refundTo', telegramId, paymentId, to } : null;
  return rest.length === 3 && /^\d{1,10}$/.test(cents ?? '') && Number(cents) > 0
    ? { type: 'refundYes', telegramId, paymentId, to, cents: Number(cents) }
    : null;
}

/** callback_data for the buttons notifications carry; the notification itself stays in the chat. */
export const notificationCallbacks = {
  renew: () => encodeCallback({ type: 'renew', keep: true }),
  retry: (paymentId: string) => encodeCallback({ type: 'retry', paymentId, keep: true }),
  setupGuide: () => encodeCallback({ type: 'guides', keep: true }),
  mySubscription: () => encodeCallback({ type: 'subscription', keep: true }),
};
