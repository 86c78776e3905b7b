import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * `Authorization: Bearer <token>`, compared in constant time (both sides hashed first, so neither the
 * content nor the length of the token leaks through timing). No token configured: every call is refused.
 */
export function bearerAuth(token: string | undefined): RequestHandler {
  const expected = token ? digest(token) : null;
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const given = digest(match?.[1] ?? '');
    if (expected && match && timingSafeEqual(given, expected)) return next();
    res.set('www-authenticate', 'Bearer').status(401).json({ error: 'unauthorized' });
  };
}
