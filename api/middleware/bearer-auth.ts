import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

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
export function adminAuth(fullToken: string | undefined, readToken: string | undefined): RequestHandler {
  const full = fullToken ? digest(fullToken) : null;
  const read = readToken ? digest(readToken) : null;
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const given = digest(match?.[1] ?? '');
    // Both comparisons always run, so the timing says nothing about which token (if any) matched.
    const isFull = Boolean(full && match && timingSafeEqual(given, full));
    const isRead = Boolean(read && match && timingSafeEqual(given, read));
    // The audit trail's `admin` (api/audit.ts): which door this request came through.
    if (isFull) {
      res.locals.adminIdentity = 'token:admin';
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
