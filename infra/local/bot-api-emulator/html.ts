import { ApiFailure } from './state';

/**
 * Telegram's HTML parse mode is strict: an unknown tag, an unclosed tag or a bare "&" rejects the whole message
 * with "can't parse entities". Emulating that catches unescaped user input (names, URLs) in tests.
 */
const ALLOWED_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'tg-emoji',
  'code',
  'pre',
  'blockquote',
]);
const TOKEN = /<(\/?)([a-zA-Z-]*)([^>]*)>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]/g;

function fail(reason: string, offset: number): never {
  throw new ApiFailure(400, `Bad Request: can't parse entities: ${reason} at byte offset ${offset}`);
}

/** Throws ApiFailure like Telegram if `text` is not valid Telegram HTML; returns the plain text Telegram stores. */
export function parseTelegramHtml(text: string): string {
  const open: string[] = [];
  let plain = '';
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const offset = Buffer.byteLength(text.slice(0, m.index));
    plain += text.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === '<' || m[0] === '>') fail(`Unsupported start tag "${m[0]}"`, offset);
    if (m[0] === '&') fail('Character entity expected', offset);
    if (m[4] !== undefined) {
      plain += { lt: '<', gt: '>', amp: '&', quot: '"' }[m[4]] ?? ' ';
      continue;
    }
    const [, closing, name] = m;
    const tag = name.toLowerCase();
    if (!ALLOWED_TAGS.has(tag)) fail(`Unsupported start tag "${name}"`, offset);
    if (!closing) {
      open.push(tag);
      continue;
    }
    if (open.pop() !== tag) fail(`Unexpected end tag`, offset);
  }
  if (open.length > 0) fail(`Can't find end tag corresponding to start tag "${open.at(-1)}"`, text.length);
  return plain + text.slice(last);
}
