import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { createLogger } from '../logger';
import { AgentService, clientBodySchema, emailSchema } from './service';
import type { AgentStore } from './store';
import { XrayError, type XrayApi } from './xray-api';

export interface AgentAppOptions {
  store: AgentStore;
  xray: XrayApi;
  token: string;
  inboundTag: string;
  /** Lets /health report the Xray version. */
  xrayBin?: string;
  logger?: Logger;
}

class BadRequest extends Error {}

/** Compare digests so neither length nor content leaks through timing. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1] ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}

function parseOr400<T>(
  result: { success: true; data: T } | { success: false; error: { issues: { message: string }[] } },
): T {
  if (!result.success) throw new BadRequest(result.error.issues[0].message);
  return result.data;
}

function parseReset(value: unknown): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new BadRequest('reset must be true or false');
}

/** The node agent's HTTP API (contract: "Node agent HTTP API"); every route needs the bearer token. */
export function createAgentApp(options: AgentAppOptions): express.Express {
  const log = options.logger ?? createLogger('agent');
  const service = new AgentService(options);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    if (tokenMatches(req.headers.authorization, options.token)) return next();
    res.set('www-authenticate', 'Bearer').status(401).json({ error: 'unauthorized' });
  });
  app.use(express.json({ limit: '16kb' }));

  app.put('/clients/:email', async (req, res) => {
    const email = parseOr400(emailSchema.safeParse(req.params.email));
    const body = parseOr400(clientBodySchema.safeParse(req.body ?? {}));
    const { created, changed } = await service.addClient(email, body);
    if (changed) log.info({ email, created }, 'client added');
    res.status(created ? 201 : 200).json({ email, uuid: body.uuid, flow: body.flow, created, changed });
  });

  app.delete('/clients/:email', async (req, res) => {
    const email = parseOr400(emailSchema.safeParse(req.params.email));
    const { removed } = await service.removeClient(email);
    if (removed) log.info({ email }, 'client removed');
    res.json({ email, removed });
  });

  app.get('/clients', async (_req, res) => {
    res.json({ clients: await service.listClients() });
  });

  app.get('/stats', async (req, res) => {
    const reset = parseReset(req.query.reset);
    const { epoch, stats } = await service.counters(reset);
    res.json({ stats, reset, epoch });
  });

  app.get('/health', async (_req, res) => {
    const h = await service.health();
    res.status(h.ok ? 200 : 503).json({
      status: h.ok ? 'ok' : 'xray_unavailable',
      xray_reachable: h.ok,
      xray_version: h.xrayVersion ?? null,
      users: h.users,
      xray_users: h.xrayUsers ?? null,
      ...(h.error ? { error: h.error } : {}),
    });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest)
      return res.status(400).json({ error: 'bad_request', message: err.message });
    const status = (err as { status?: number; type?: string }).status;
    if (status && status >= 400 && status < 500) {
      // express.json: malformed JSON, too large, wrong charset.
      return res.status(status).json({ error: 'bad_request', message: (err as Error).message });
    }
    if (err instanceof XrayError && err.unavailable) {
      // The store already holds the change; the reconciler applies it when Xray is back. 503 = retry.
      log.warn({ err: err.message }, 'xray unavailable');
      return res.status(503).json({ error: 'xray_unavailable', message: err.message });
    }
    log.error({ err }, 'agent request failed');
    res.status(500).json({ error: 'internal', message: (err as Error).message });
  });

  return app;
}
