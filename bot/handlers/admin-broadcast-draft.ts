import type { MessageEntity } from 'telegraf/types';
import { escapeHtml } from '../../infra/i18n';
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

const TAGS: Partial<Record<MessageEntity['type'], string>> = {
  bold: 'b',
  italic: 'i',
  underline: 'u',
  strikethrough: 's',
  spoiler: 'tg-spoiler',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  text_link: 'a',
};

/**
 * Formatting the admin applied with Telegram's own editor (bold, italic, links, …) arrives as entities, not
 * tags: rebuilt here as the HTML the broadcast is stored in. Without such entities the text is taken as typed
 * HTML instead (returns null), so typed tags keep working; the two are not mixed in one message.
 */
export function entitiesToHtml(text: string, entities: readonly MessageEntity[] = []): string | null {
  const used = entities
    .filter((e) => TAGS[e.type] && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  if (!used.length) return null;
  const open = (e: MessageEntity) =>
    e.type === 'text_link' ? `<a href="${escapeHtml(e.url).replace(/"/g, '&quot;')}">` : `<${TAGS[e.type]}>`;
  const close = (e: MessageEntity) => `</${TAGS[e.type]}>`;
  const stack: MessageEntity[] = [];
  let out = '';
  let next = 0;
  // Offsets are UTF-16 code units, like JavaScript string indexes.
  for (let i = 0; i <= text.length; i++) {
    // Close what ends here; an entity closed early to keep the tags nested is reopened right after.
    const reopen: MessageEntity[] = [];
    while (stack.some((e) => e.offset + e.length === i)) {
      const top = stack.pop()!;
      out += close(top);
      if (top.offset + top.length !== i) reopen.unshift(top);
    }
    for (const e of reopen) {
      out += open(e);
      stack.push(e);
    }
    while (next < used.length && used[next].offset === i) {
      out += open(used[next]);
      stack.push(used[next++]);
    }
    if (i < text.length) out += escapeHtml(text[i]);
  }
  return out;
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** A Telegram message (its text and entities) → the API's fields; see parseBroadcastMessage. */
export function parseAdminMessage(text: string, entities?: readonly MessageEntity[]) {
  const html = entitiesToHtml(text, entities);
  if (html === null) return parseBroadcastMessage(text);
  const parsed = parseBroadcastMessage(html);
  if (!parsed.ok) return parsed;
  // The picture and button lines are not HTML: undo the escaping the rebuild gave them.
  const { photo_url, buttons } = parsed.message;
  return {
    ok: true as const,
    message: {
      ...parsed.message,
      ...(photo_url ? { photo_url: unescapeHtml(photo_url) } : {}),
      ...(buttons
        ? {
            buttons: buttons.map((row) =>
              row.map((b) => ({ text: unescapeHtml(b.text), url: unescapeHtml(b.url) })),
            ),
          }
        : {}),
    },
  };
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
