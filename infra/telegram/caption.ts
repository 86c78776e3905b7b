/** Telegram's caption limit: 1024 characters of the text as Telegram stores it (after HTML parsing). */
export const CAPTION_LIMIT = 1024;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** The length Telegram counts for an HTML-formatted text: tags dropped, entities as one character each. */
export function telegramTextLength(html: string): number {
  const plain = html.replace(/<[^>]*>/g, '').replace(/&(#x[\da-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
    const code =
      name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
    return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
  });
  return plain.length; // UTF-16 code units, as Telegram counts them
}

/** True when the HTML text can be a photo's caption. */
export function fitsCaption(html: string): boolean {
  return telegramTextLength(html) <= CAPTION_LIMIT;
}
