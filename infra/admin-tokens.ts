import { z } from 'zod';

/** One named admin bearer: the audit trail says `token:<name>` for whatever it does. */
export interface NamedAdminToken {
  name: string;
  token: string;
}

/**
 * The name of the token the bot's admin screens use for writes. Only requests with this token may say on
 * whose behalf they act (`X-Admin-Telegram-Id`), so the audit names the Telegram admin (`tg:<id>`).
 */
export const BOT_ADMIN_TOKEN_NAME = 'bot';

/** `ADMIN_TOKENS=alice:<token>,bot:<token>`: names are short identifiers, tokens at least 16 characters. */
export const adminTokensField = z.string().transform((raw, ctx): NamedAdminToken[] => {
  const out: NamedAdminToken[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = part.indexOf(':');
    const name = at > 0 ? part.slice(0, at) : '';
    const token = at > 0 ? part.slice(at + 1) : '';
    if (!/^[a-z0-9][a-z0-9_.-]{0,31}$/i.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message: 'each entry must be name:token with a name of A-Z, 0-9, _ . -',
      });
      return z.NEVER;
    }
    if (token.length < 16) {
      ctx.addIssue({ code: 'custom', message: `token of "${name}" must be at least 16 characters` });
      return z.NEVER;
    }
    if (out.some((t) => t.name === name || t.token === token)) {
      ctx.addIssue({ code: 'custom', message: `"${name}" repeats a name or a token` });
      return z.NEVER;
    }
    out.push({ name, token });
  }
  return out;
});
