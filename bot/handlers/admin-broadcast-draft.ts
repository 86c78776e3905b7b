import type { NewBroadcast } from '../api-client';
import type { BotDeps } from '../ui';

/**
 * A broadcast the admin is composing in the bot: the message, then the audience. Kept in the bot's memory
 * only (the bot keeps no per-chat state anywhere else): a bot restart loses it, and the admin enters it
 * again (documented in README "The bot"). One draft per admin; a new "New broadcast" replaces it.
 */

export type Segment = NewBroadcast['audience']['segment'];

export interface Draft {
  message?: Pick<NewBroadcast, 'text' | 'photo_url' | 'buttons'>;
  audience: NewBroadcast['audience'];
  /** What the admin's next text message is: the broadcast itself, or the list of recipient ids. */
  awaiting?: 'message' | 'ids';
}

/** The API's limits (api/routes/admin-broadcasts.ts), checked here so the admin hears why at once. */
const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const MAX_BUTTONS = 10;
const MAX_LABEL = 64;
export const MAX_IDS = 100_000;

const PHOTO_LINE = /^photo:\s*(\S+)\s*$/i;
const BUTTON_LINE = /^(.*?)\s*\|\s*(https?:\/\/\S+)\s*$/;

export type MessageProblem =
  | 'empty'
  | 'too_long'
  | 'caption_too_long'
  | 'bad_photo'
  | 'too_many_buttons'
  | 'bad_button';

/**
 * The admin's message → the API's fields. An optional first line `photo: https://…`; optional last lines
 * `Label | https://url`, one button (one row) each; everything between is the HTML text, as typed.
 */
export function parseBroadcastMessage(
  raw: string,
): { ok: true; message: NonNullable<Draft['message']> } | { ok: false; problem: MessageProblem } {
  const lines = raw.replace(/\r\n/g, '\n').split('\n');
  let photo: string | undefined;
  const photoLine = PHOTO_LINE.exec(lines[0]?.trim() ?? '');
  if (photoLine) {
    if (!/^https:\/\/[^\s/]+\.[^\s]+$/.test(photoLine[1])) return { ok: false, problem: 'bad_photo' };
    photo = photoLine[1];
    lines.shift();
  }
  const buttons: Array<Array<{ text: string; url: string }>> = [];
  while (lines.length) {
    const last = lines[lines.length - 1].trim();
    if (last === '') {
      lines.pop();
      continue;
    }
    const button = BUTTON_LINE.exec(last);
    if (!button) break;
    if (!button[1] || button[1].length > MAX_LABEL) return { ok: false, problem: 'bad_button' };
    buttons.unshift([{ text: button[1], url: button[2] }]);
    lines.pop();
  }
  const text = lines.join('\n').trim();
  if (!text) return { ok: false, problem: 'empty' };
  if (text.length > MAX_TEXT) return { ok: false, problem: 'too_long' };
  if (photo && text.length > MAX_CAPTION) return { ok: false, problem: 'caption_too_long' };
  if (buttons.length > MAX_BUTTONS) return { ok: false, problem: 'too_many_buttons' };
  return {
    ok: true,
    message: { text, ...(photo ? { photo_url: photo } : {}), ...(buttons.length ? { buttons } : {}) },
  };
}

/** Pasted ids (spaces, commas, semicolons, new lines) → unique telegram ids, or the first token that is not one. */
export function parseTelegramIds(raw: string): { ok: true; ids: number[] } | { ok: false; bad: string } {
  const tokens = raw.split(/[\s,;]+/).filter(Boolean);
  const ids = new Set<number>();
  for (const token of tokens) {
    const id = Number(token);
    if (!/^\d{1,16}$/.test(token) || id <= 0 || !Number.isSafeInteger(id))
      return { ok: false, bad: token.slice(0, 40) };
    ids.add(id);
  }
  if (ids.size === 0) return { ok: false, bad: raw.trim().slice(0, 40) || '—' };
  if (ids.size > MAX_IDS) return { ok: false, bad: `> ${MAX_IDS}` };
  return { ok: true, ids: [...ids] };
}

/** The drafts of one bot instance (keyed by the admin's telegram id). */
const draftsByBot = new WeakMap<BotDeps, Map<number, Draft>>();

export function draftsOf(deps: BotDeps): Map<number, Draft> {
  let drafts = draftsByBot.get(deps);
  if (!drafts) {
    drafts = new Map();
    draftsByBot.set(deps, drafts);
  }
  return drafts;
}
