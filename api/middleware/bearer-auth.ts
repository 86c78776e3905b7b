import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { BOT_ADMIN_TOKEN_NAME, type NamedAdminToken } from '../../infra/admin-tokens';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * `Authorization: Bearer <token>`, compared in constant time (both sides hashed first, so neither the
 * content nor the length of the token leaks through timing). No token configured: every call is refused.
 */
export function bearerAuth(token: string | undefined): RequestHandler {
  return adminAuth(token, undefined);
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The admin door: the full ADMIN_TOKEN may do anything; the read-only ADMIN_READ_TOKEN (the bot's admin
 * screens) may only read, and a write with it is 403 `{"error":"read_only_token"}`. Anything else is 401.
 */
export function adminAuth(
  fullToken: string | undefined,
  readToken: string | undefined,
  namedTokens: NamedAdminToken[] = [],
): RequestHandler {
  const full = fullToken ? digest(fullToken) : null;
  const read = readToken ? digest(readToken) : null;
  const named = namedTokens.map((t) => ({ name: t.name, hash: digest(t.token) }));
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const given = digest(match?.[1] ?? '');
    // Every comparison always runs, so the timing says nothing about which token (if any) matched.
    const isFull = Boolean(full && match && timingSafeEqual(given, full));
    const isRead = Boolean(read && match && timingSafeEqual(given, read));
    let namedMatch: string | undefined;
    for (const t of named) if (match && timingSafeEqual(given, t.hash)) namedMatch ??= t.name;
    // The audit trail's `admin` (api/audit.ts): which door this request came through.
    if (isFull) {
      res.locals.adminIdentity = 'token:admin';
      return next();
    }
    if (namedMatch) {
      res.locals.adminIdentity = identityOf(namedMatch, req.get('x-admin-telegram-id'));
      return next();
    }
    if (isRead && READ_METHODS.has(req.method)) {
      res.locals.adminIdentity = 'token:read';
      return next();
    }
    if (isRead) return void res.status(403).json({ error: 'read_only_token' });
    res.set('www-authenticate', 'Bearer').status(401).json({ error: 'unauthorized' });
  };
}

/**
 * A named token acts as itself; the bot's token (named `bot`) acts for the Telegram admin it names in
 * `X-Admin-Telegram-Id`, so the audit says `tg:<id>` (the bot checks ADMIN_TELEGRAM_IDS before sending it).
 */
function identityOf(name: string, telegramId: string | undefined): string {
  if (name === BOT_ADMIN_TOKEN_NAME && telegramId && /^\d{1,20}$/.test(telegramId)) return `tg:${telegramId}`;
  return `token:${name}`;
}
