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
