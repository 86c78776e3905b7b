// Texts of the device screens (issue 12, helper botdevices): kept apart from en.ts/ru.ts like quota.ts.
import { escapeHtml as h, formatDateTime, pluralEn, pluralRu } from './format';

export interface DeviceLine {
  name: string;
  primary: boolean;
  /** Registered by an app through the subscription URL (x-hwid); its name is the app's user agent. */
  byApp: boolean;
  /** What the app said it runs on (x-device-os / x-device-model), when it said so. */
  os: string | null;
  model: string | null;
  createdAt: string;
}

/** " · iOS 18.1 · iPhone 15 Pro", or nothing when the app sent neither. */
const osModel = (d: DeviceLine) =>
  [d.os, d.model]
    .filter(Boolean)
    .map((x) => ` · ${h(String(x))}`)
    .join('');

export interface DeviceTexts {
  /** The "Devices" button under "My subscription". */
  button: string;
  list: (p: { devices: DeviceLine[]; limit: number | null }) => string;
  add: string;
  back: string;
  rename: string;
  remove: string;
  removeYes: string;
  cancel: string;
  /** The force-reply prompt for a new device's name; `-` keeps the default name. */
  askName: string;
  /** The force-reply prompt (plain text) for a rename; carries the device id, so the reply names the device. */
  askRename: (p: { name: string; deviceId: string }) => string;
  badName: string;
  added: (p: { name: string; vlessUrl: string }) => string;
  qrCaption: (name: string) => string;
  /** POST …/devices said 409 device_limit (or the list shows every slot taken). */
  limit: (limit: number) => string;
  upgrade: string;
  card: (p: DeviceLine) => string;
  confirmRemove: (name: string) => string;
  removed: (p: { name: string; applied: boolean }) => string;
  renamed: (name: string) => string;
  gone: string;
  noAccess: string;
  nodeUnavailable: string;
}

const enDate = (iso: string) => formatDateTime(iso, 'en-GB');
const ruDate = (iso: string) => formatDateTime(iso, 'ru-RU');

const ASK_RENAME_EN = '✏️ Send the new name for';
const ASK_RENAME_RU = '✏️ Пришлите новое имя для';

export const devicesEn: DeviceTexts = {
  button: '📱 Devices',
  list: ({ devices, limit }) =>
    `📱 <b>Your devices</b>: ${devices.length}${limit === null ? ' (no limit)' : ` of ${limit}`}\n\n` +
    devices
      .map(
        (d, i) =>
          `${i + 1}. <b>${h(d.name)}</b>${osModel(d)}` +
          (d.primary ? ' — the subscription’s own key' : d.byApp ? ' — added by the app' : '') +
          `\n    added ${enDate(d.createdAt)}`,
      )
      .join('\n') +
    '\n\nEach device has its own key. Tap a device to rename or remove it.',
  add: '➕ Add device',
  back: '⬅️ Devices',
  rename: '✏️ Rename',
  remove: '🗑 Remove',
  removeYes: '🗑 Yes, remove',
  cancel: 'Cancel',
  askName: '📱 Send a name for the new device (e.g. Laptop), or “-” for the default name.',
  askRename: ({ name, deviceId }) => `${ASK_RENAME_EN} “${name}”.\nDevice: ${deviceId}`,
  badName: 'A device name is 1 to 64 characters. Tap “Add device” or “Rename” again.',
  added: ({ name, vlessUrl }) =>
    `✅ <b>Device “${h(name)}” added.</b> Its own key (tap to copy):\n<code>${h(vlessUrl)}</code>\n\n` +
    'Import it (or scan the QR code above) in the VPN app of that device.',
  qrCaption: (name) => `The key of “${name}” as a QR code.`,
  limit: (limit) =>
    `⚠️ <b>Your plan allows ${limit} ${pluralEn(limit, 'device', 'devices')}</b> (the subscription’s own key counts as one), and all are in use.\n\n` +
    'Remove a device you no longer use, or upgrade to a plan with more devices.',
  upgrade: '⬆️ Upgrade the plan',
  card: (d) =>
    `📱 <b>${h(d.name)}</b>${osModel(d)}\nAdded ${enDate(d.createdAt)}` +
    (d.byApp ? '\nRegistered by the app through the subscription URL.' : '') +
    (d.primary ? '\n\nThe subscription’s own key: it goes only with the subscription.' : ''),
  confirmRemove: (name) =>
    `Remove “${h(name)}”? Its key stops working on every server at once. This cannot be undone.`,
  removed: ({ name, applied }) =>
    applied
      ? `🗑 “${h(name)}” removed: its key no longer works.`
      : `🗑 “${h(name)}” removed. Its server is not reachable right now; the key stops working as soon as it is.`,
  renamed: (name) => `✅ Renamed to “${h(name)}”. The key is the same.`,
  gone: 'This device is no longer on your subscription.',
  noAccess: '❌ You have no active subscription. Devices come with one.',
  nodeUnavailable:
    '⚠️ The server cannot take a new key right now. Nothing was added; try again in a few minutes.',
};

export const devicesRu: DeviceTexts = {
  button: '📱 Устройства',
  list: ({ devices, limit }) =>
    `📱 <b>Ваши устройства</b>: ${devices.length}${limit === null ? ' (без ограничений)' : ` из ${limit}`}\n\n` +
    devices
      .map(
        (d, i) =>
          `${i + 1}. <b>${h(d.name)}</b>${osModel(d)}` +
          (d.primary ? ' — основной ключ подписки' : d.byApp ? ' — добавлено приложением' : '') +
          `\n    добавлено ${ruDate(d.createdAt)}`,
      )
      .join('\n') +
    '\n\nУ каждого устройства свой ключ. Нажмите на устройство, чтобы переименовать или удалить его.',
  add: '➕ Добавить устройство',
  back: '⬅️ Устройства',
  rename: '✏️ Переименовать',
  remove: '🗑 Удалить',
  removeYes: '🗑 Да, удалить',
  cancel: 'Отмена',
  askName: '📱 Пришлите имя нового устройства (например, Ноутбук) или «-» для имени по умолчанию.',
  askRename: ({ name, deviceId }) => `${ASK_RENAME_RU} «${name}».\nУстройство: ${deviceId}`,
  badName: 'Имя устройства — от 1 до 64 символов. Нажмите «Добавить устройство» или «Переименовать» ещё раз.',
  added: ({ name, vlessUrl }) =>
    `✅ <b>Устройство «${h(name)}» добавлено.</b> Его собственный ключ (нажмите, чтобы скопировать):\n<code>${h(vlessUrl)}</code>\n\n` +
    'Импортируйте его (или отсканируйте QR-код выше) в VPN-приложении этого устройства.',
  qrCaption: (name) => `Ключ «${name}» в виде QR-кода.`,
  limit: (limit) =>
    `⚠️ <b>Ваш тариф позволяет ${limit} ${pluralRu(limit, ['устройство', 'устройства', 'устройств'])}</b> (основной ключ подписки — одно из них), и все заняты.\n\n` +
    'Удалите устройство, которым больше не пользуетесь, или перейдите на тариф с большим числом устройств.',
  upgrade: '⬆️ Тариф побольше',
  card: (d) =>
    `📱 <b>${h(d.name)}</b>${osModel(d)}\nДобавлено ${ruDate(d.createdAt)}` +
    (d.byApp ? '\nЗарегистрировано приложением по ссылке подписки.' : '') +
    (d.primary ? '\n\nОсновной ключ подписки: удаляется только вместе с подпиской.' : ''),
  confirmRemove: (name) =>
    `Удалить «${h(name)}»? Его ключ сразу перестанет работать на всех серверах. Отменить это нельзя.`,
  removed: ({ name, applied }) =>
    applied
      ? `🗑 «${h(name)}» удалено: его ключ больше не работает.`
      : `🗑 «${h(name)}» удалено. Сервер сейчас недоступен; ключ перестанет работать, как только он ответит.`,
  renamed: (name) => `✅ Новое имя: «${h(name)}». Ключ прежний.`,
  gone: 'Этого устройства больше нет в вашей подписке.',
  noAccess: '❌ У вас нет активной подписки. Устройства добавляются к ней.',
  nodeUnavailable:
    '⚠️ Сервер сейчас не может принять новый ключ. Ничего не добавлено; попробуйте через несколько минут.',
};

export function deviceTexts(lang: string | null | undefined): DeviceTexts {
  return lang?.toLowerCase().startsWith('en') ? devicesEn : devicesRu;
}

/** The prompts' own words, so a reply to one is recognised whatever the user's language is now. */
export const DEVICE_NAME_PROMPTS: ReadonlySet<string> = new Set([devicesEn.askName, devicesRu.askName]);
export const RENAME_PROMPT_PREFIXES = [ASK_RENAME_EN, ASK_RENAME_RU] as const;
