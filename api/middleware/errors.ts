import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { HttpError } from '../errors';

export const unknownRoute: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not_found', message: `no route ${req.method} ${req.path}` });
};

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Turns every failure into JSON; a stack or an internal message never reaches the client. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    if (err instanceof HttpError) {
      res.status(err.status).json(err.toJSON());
      return;
    }
    const parser = err as BodyParserError;
    if (parser.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'malformed_json', message: 'request body is not valid JSON' });
      return;
    }
    if (parser.type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large' });
      return;
    }
    if (parser.type && parser.status && parser.status >= 400 && parser.status < 500) {
      res.status(parser.status).json({ error: parser.type.replace(/\./g, '_') });
      return;
    }
    if (isDataException(err)) {
      // Input that passed the schema but not the column (too long, out of range): the caller's fault, not ours.
      logger.warn({ err, method: req.method, route: req.route?.path }, 'input refused by PostgreSQL');
      res
        .status(422)
        .json({ error: 'validation_failed', message: 'a value cannot be stored (too long or out of range)' });
      return;
    }
    if (isDependencyUnavailable(err)) {
      // PostgreSQL or Temporal is down or restarting: a retry soon will work, so say so instead of 500.
      logger.error({ err, method: req.method, route: req.route?.path }, 'a dependency is unavailable');
      res.set('retry-after', '5').status(503).json({ error: 'service_unavailable' });
      return;
    }
    logger.error({ err, method: req.method, route: req.route?.path }, 'request failed');
    res.status(500).json({ error: 'internal_error' });
  };
}

/** PostgreSQL SQLSTATE class 22 (data exception: value too long, numeric out of range, invalid text). */
function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // 23514 check_violation too: a value the schema let through but a CHECK constraint refuses is bad input.
  return typeof code === 'string' && (/^22[0-9A-Z]{3}$/.test(code) || code === '23514');
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const LOST_CONNECTION = /Connection terminated|Connection ended unexpectedly|Timeout acquiring a connection/i;
const GRPC_UNAVAILABLE = 14;

/**
 * The database or Temporal cannot be reached: a refused or dropped connection, PostgreSQL shutting down
 * (SQLSTATE 57P0x) or a connection exception (class 08), the pool timing out, or gRPC UNAVAILABLE.
 */
function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (
    typeof e.code === 'string' &&
    (NETWORK_CODES.has(e.code) || /^(57P0[1-3]|08[0-9A-Z]{3})$/.test(e.code))
  ) {
    return true;
  }
  if (e.code === GRPC_UNAVAILABLE) return true;
  if (e.name === 'KnexTimeoutError') return true;
  if (typeof e.message === 'string' && LOST_CONNECTION.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDependencyUnavailable(inner, depth + 1)))
    return true;
  return isDependencyUnavailable(e.cause, depth + 1);
}
