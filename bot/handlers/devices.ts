import { type Context, Input, type Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { langFor } from '../../infra/i18n';
import {
  DEVICE_NAME_PROMPTS,
  type DeviceLine,
  type DeviceTexts,
  deviceTexts,
  RENAME_PROMPT_PREFIXES,
} from '../../infra/i18n/devices';
import type { DeviceOp } from '../../infra/telegram/callbacks';
import { ApiRequestError, ApiUnavailableError } from '../api-client';
import type { Device, DeviceList } from '../device-schemas';
import { type BotDeps, cb, extra, type Rows, show, textsFor } from '../ui';

/**
 * "My subscription" → "Devices" (issue 12): list, add (a typed name, then that device's key + QR), rename
 * (a typed name), remove (after a confirm; the API takes its client off the node). Names are asked with
 * force-reply prompts whose text identifies what they are for (the rename prompt carries the device id), so
 * the bot keeps no per-chat state: a restart between prompt and reply loses nothing.
 */

const textsOf = (ctx: Context): DeviceTexts => deviceTexts(langFor(ctx.from?.language_code));
/** The rename prompt ends with the device id (a name that looks like a uuid cannot stand in for it). */
const PROMPT_DEVICE_ID = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
/** The API's bound (api/routes/devices.ts): refused here first, with the user's words, not a 422. */
const MAX_NAME = 64;

const line = (d: Device): DeviceLine => ({
  name: d.name,
  primary: d.primary,
  byApp: Boolean(d.hwid),
  os: d.os ?? null,
  model: d.model ?? null,
  createdAt: d.created_at,
});

const refusalCode = (err: unknown) =>
  err instanceof ApiRequestError ? (err.body as { error?: string } | null)?.error : undefined;

const atLimit = (list: DeviceList) => list.device_limit !== null && list.devices.length >= list.device_limit;

function backRows(d: DeviceTexts): Rows {
  return [[cb(d.back, { type: 'devices', op: 'list' })]];
}

async function noAccess(ctx: Context): Promise<void> {
  const m = textsFor(ctx);
  await show(ctx, textsOf(ctx).noAccess, [
    [cb(m.buttons.buy, { type: 'tariffs' })],
    [cb(m.buttons.menu, { type: 'menu' })],
  ]);
}

/** The limit refusal: names the limit, offers removing a device or a bigger plan. */
async function showLimit(ctx: Context, limit: number): Promise<void> {
  const d = textsOf(ctx);
  await show(ctx, d.limit(limit), [
    [cb(d.upgrade, { type: 'changePlan' })],
    [cb(d.back, { type: 'devices', op: 'list' })],
  ]);
}

export async function showDevices(ctx: Context, deps: BotDeps): Promise<void> {
  if (!ctx.from) return;
  const list = await deps.api.devices.list(ctx.from.id);
  if (!list) return noAccess(ctx);
  const d = textsOf(ctx);
  const m = textsFor(ctx);
  const rows: Rows = list.devices
    .filter((x) => !x.primary)
    .map((x) => [cb(`📱 ${x.name}`, { type: 'devices', op: 'card', deviceId: x.device_id })]);
  rows.push([cb(d.add, { type: 'devices', op: 'add' })]);
  rows.push([
    cb(m.buttons.mySubscription, { type: 'subscription', keep: true }),
    cb(m.buttons.menu, { type: 'menu' }),
  ]);
  await show(ctx, d.list({ devices: list.devices.map(line), limit: list.device_limit }), rows);
}

/** "Add device": refused at once at the limit; otherwise the name prompt (the reply adds the device). */
async function askNewDevice(ctx: Context, deps: BotDeps): Promise<void> {
  if (!ctx.from) return;
  const list = await deps.api.devices.list(ctx.from.id);
  if (!list) return noAccess(ctx);
  if (atLimit(list)) return showLimit(ctx, Number(list.device_limit));
  await ctx.reply(textsOf(ctx).askName, {
    reply_markup: { force_reply: true, input_field_placeholder: 'Laptop' },
  });
}

async function addDevice(ctx: Context, deps: BotDeps, typed: string): Promise<void> {
  if (!ctx.from) return;
  const d = textsOf(ctx);
  const name = typed.trim() === '-' ? undefined : typed.trim();
  if (name !== undefined && (name.length === 0 || name.length > MAX_NAME)) return show(ctx, d.badName);
  let created: Awaited<ReturnType<BotDeps['api']['devices']['add']>>;
  try {
    created = await deps.api.devices.add(ctx.from.id, name);
  } catch (err) {
    const code = refusalCode(err);
    if (code === 'device_limit') {
      // Another device (an app via the subscription URL, say) took the last slot since the prompt.
      const list = await deps.api.devices.list(ctx.from.id);
      return showLimit(ctx, Number(list?.device_limit ?? 0));
    }
    if (code === 'no_active_subscription') return noAccess(ctx);
    if (err instanceof ApiUnavailableError && err.status === 503)
      return show(ctx, d.nodeUnavailable, backRows(d));
    throw err;
  }
  const list = await deps.api.devices.list(ctx.from.id);
  const shownName = list?.devices.find((x) => x.device_id === created.device_id)?.name ?? name ?? '';
  await ctx.replyWithPhoto(Input.fromBuffer(Buffer.from(created.qr_png_base64, 'base64'), 'qr.png'), {
    caption: d.qrCaption(shownName),
  });
  // A new message, not an edit: it holds the key and must stay in the chat.
  await ctx.reply(d.added({ name: shownName, vlessUrl: created.vless_url }), extra(backRows(d)));
}

async function findDevice(ctx: Context, deps: BotDeps, deviceId: string): Promise<Device | null> {
  if (!ctx.from) return null;
  const list = await deps.api.devices.list(ctx.from.id);
  if (!list) {
    await noAccess(ctx);
    return null;
  }
  const device = list.devices.find((x) => x.device_id === deviceId && !x.primary);
  if (!device) await show(ctx, textsOf(ctx).gone, backRows(textsOf(ctx)));
  return device ?? null;
}

async function showCard(ctx: Context, deps: BotDeps, deviceId: string): Promise<void> {
  const device = await findDevice(ctx, deps, deviceId);
  if (!device) return;
  const d = textsOf(ctx);
  await show(ctx, d.card(line(device)), [
    [
      cb(d.rename, { type: 'devices', op: 'rename', deviceId }),
      cb(d.remove, { type: 'devices', op: 'remove', deviceId }),
    ],
    [cb(d.back, { type: 'devices', op: 'list' })],
  ]);
}

async function askRename(ctx: Context, deps: BotDeps, deviceId: string): Promise<void> {
  const device = await findDevice(ctx, deps, deviceId);
  if (!device) return;
  await ctx.reply(textsOf(ctx).askRename({ name: device.name, deviceId }), {
    reply_markup: { force_reply: true, input_field_placeholder: device.name.slice(0, 64) },
  });
}

async function rename(ctx: Context, deps: BotDeps, deviceId: string, typed: string): Promise<void> {
  if (!ctx.from) return;
  const d = textsOf(ctx);
  const name = typed.trim();
  if (name.length === 0 || name.length > MAX_NAME) return show(ctx, d.badName, backRows(d));
  try {
    const renamed = await deps.api.devices.rename(ctx.from.id, deviceId, name);
    await show(ctx, d.renamed(renamed.name), backRows(d));
  } catch (err) {
    const code = refusalCode(err);
    if (code === 'device_not_found' || code === 'primary_device') return show(ctx, d.gone, backRows(d));
    throw err;
  }
}

async function confirmRemove(ctx: Context, deps: BotDeps, deviceId: string): Promise<void> {
  const device = await findDevice(ctx, deps, deviceId);
  if (!device) return;
  const d = textsOf(ctx);
  await show(ctx, d.confirmRemove(device.name), [
    [
      cb(d.removeYes, { type: 'devices', op: 'remove_yes', deviceId }),
      cb(d.cancel, { type: 'devices', op: 'card', deviceId }),
    ],
  ]);
}

async function remove(ctx: Context, deps: BotDeps, deviceId: string): Promise<void> {
  if (!ctx.from) return;
  const device = await findDevice(ctx, deps, deviceId); // a second tap on "Yes" finds it gone
  if (!device) return;
  const d = textsOf(ctx);
  try {
    const removed = await deps.api.devices.remove(ctx.from.id, deviceId);
    await show(ctx, d.removed({ name: device.name, applied: removed.applied }), backRows(d));
  } catch (err) {
    if (refusalCode(err) === 'device_not_found') return show(ctx, d.gone, backRows(d));
    throw err;
  }
}

/** The callback router's entry for `{type: 'devices'}` buttons. */
export function onDevices(ctx: Context, deps: BotDeps, op: DeviceOp, deviceId?: string): Promise<void> {
  if (op === 'list') return showDevices(ctx, deps);
  if (op === 'add') return askNewDevice(ctx, deps);
  if (!deviceId) return showDevices(ctx, deps);
  switch (op) {
    case 'card':
      return showCard(ctx, deps, deviceId);
    case 'rename':
      return askRename(ctx, deps, deviceId);
    case 'remove':
      return confirmRemove(ctx, deps, deviceId);
    case 'remove_yes':
      return remove(ctx, deps, deviceId);
  }
}

/** Replies to the name prompts. Registered before the catch-all text handler (which shows the menu). */
export function registerDevices(bot: Telegraf, deps: BotDeps): void {
  bot.on(message('text'), async (ctx, next) => {
    const prompt = ctx.message.reply_to_message;
    const promptText = prompt && 'text' in prompt ? prompt.text : undefined;
    if (!promptText || prompt?.from?.id !== ctx.botInfo.id) return next();
    if (DEVICE_NAME_PROMPTS.has(promptText)) return addDevice(ctx, deps, ctx.message.text);
    const deviceId = RENAME_PROMPT_PREFIXES.some((p) => promptText.startsWith(p))
      ? PROMPT_DEVICE_ID.exec(promptText.trim())?.[1]
      : undefined;
    if (deviceId) return rename(ctx, deps, deviceId, ctx.message.text);
    return next();
  });
}
