import pino, { type Logger } from 'pino';

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'adminToken',
  '*.adminToken',
  'agentToken',
  '*.agentToken',
  'agent_token',
  '*.agent_token',
  'botToken',
  '*.botToken',
  'secretKey',
  '*.secretKey',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  'private_key',
  '*.private_key',
  '*.ssh.private_key',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'databaseUrl',
  '*.databaseUrl',
];

export function createLogger(name: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export const logger = createLogger('vpn');
