import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ZodTypeAny, z } from 'zod';
import { HttpError } from './errors';

export type Auth = 'api' | 'admin' | 'metrics' | 'none';
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** Documents the JSON body; tests also parse answers with it. */
  schema?: ZodTypeAny;
  /** Default application/json. */
  contentType?: string;
  /** Response headers: name → meaning, or a full OpenAPI header object (e.g. Retry-After). */
  headers?: Record<string, string | Record<string, unknown>>;
}

export interface RouteSpec<
  P extends ZodTypeAny = ZodTypeAny,
  Q extends ZodTypeAny = ZodTypeAny,
  B extends ZodTypeAny = ZodTypeAny,
> {
  method: Method;
  /** Express pattern, e.g. /api/v1/payments/:payment_id */
  path: string;
  summary: string;
  tag: string;
  auth: Auth;
  params?: P;
  query?: Q;
  body?: B;
  /** Request headers the route reads (a z.object with lower-case names), validated and documented like params. */
  headers?: ZodTypeAny;
  responses: Record<number, ResponseSpec>;
  /** Status for input failing its schema: 422 unless the caller's protocol says otherwise. */
  invalidStatus?: 400 | 422;
  /** The body is someone else's free-form document: skip the NUL/number guard, the schema checks what is read. */
  freeFormBody?: boolean;
  /** Runs before the body is read (e.g. the webhook source allowlist). */
  before?: RequestHandler[];
}

type Out<S> = S extends ZodTypeAny ? z.output<S> : undefined;
export interface Input<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  /** The validated `headers` schema output ({} when the route declares none). */
  headers: Record<string, unknown>;
}
export type Handler<P, Q, B> = (input: Input<P, Q, B>, req: Request, res: Response) => unknown;
/** Runs on validated input before the handler (e.g. a per-user rate limit); throws an HttpError to refuse. */
export type Guard = (input: Input<unknown, unknown, unknown>, req: Request, res: Response) => void;

export const JSON_LIMIT = '64kb';
const jsonBody = express.json({ limit: JSON_LIMIT });

/**
 * Every route is declared once, with its schemas: the same declaration validates requests, picks the
 * auth, and feeds the OpenAPI document, so the document cannot drift from what is served.
 */
export class RouteTable {
  readonly routes: RouteSpec[] = [];

  constructor(
    private readonly router: Router,
    private readonly auth: Record<Auth, RequestHandler[]>,
    private readonly guards: Partial<Record<Auth, Guard[]>> = {},
  ) {}

  add<P extends ZodTypeAny | undefined, Q extends ZodTypeAny | undefined, B extends ZodTypeAny | undefined>(
    spec: Omit<RouteSpec, 'params' | 'query' | 'body'> & { params?: P; query?: Q; body?: B },
    handler: Handler<P, Q, B>,
  ): void {
    this.routes.push(spec as RouteSpec);
    const validate: RequestHandler = async (req, res) => {
      const status = spec.invalidStatus ?? 422;
      const input = {
        params: parse(spec.params, req.params, status, 'path'),
        query: parse(spec.query, req.query, status, 'query'),
        body: parse(spec.body, req.body ?? {}, status, 'body', !spec.freeFormBody),
        headers: parse(spec.headers, req.headers, status, 'header') ?? {},
      } as Input<P, Q, B>;
      for (const guard of this.guards[spec.auth] ?? [])
        guard(input as Input<unknown, unknown, unknown>, req, res);
      await handler(input, req, res);
    };
    const chain = [
      ...(spec.before ?? []),
      ...this.auth[spec.auth],
      ...(spec.body ? [jsonBody] : []),
      validate,
    ];
    this.router[spec.method](spec.path, ...chain);
    this.answerUndeclaredMethods(spec.path);
  }

  /**
   * A method the path does not declare answers 405 with `Allow`. Registered right after the path's first route,
   * so it also wins over a later `:param` sibling (GET /payments/create is 405, not "bad payment id").
   */
  private answerUndeclaredMethods(path: string): void {
    if (this.routes.filter((r) => r.path === path).length > 1) return;
    const allowed = () => {
      const set = new Set<string>();
      for (const r of this.routes.filter((route) => route.path === path)) {
        set.add(r.method.toUpperCase());
        if (r.method === 'get') set.add('HEAD');
      }
      return set;
    };
    const methodNotAllowed: RequestHandler = (req, res, next) => {
      const methods = allowed();
      if (methods.has(req.method)) return next();
      const allow = [...methods].join(', ');
      res
        .set('allow', allow)
        .status(405)
        .json({
          error: 'method_not_allowed',
          message: `${req.method} is not served here; allowed: ${allow}`,
        });
    };
    this.router.all(path, methodNotAllowed);
  }
}

/** Beyond ±2^53 a JSON number is no longer exact; the document declares the same bound for every number. */
export const NUMBER_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * What no field may carry, whatever its schema: NUL (PostgreSQL text cannot hold it) and numbers past
 * ±2^53 (1e308 would overflow every column). Refused at the edge, naming the field, instead of failing in SQL.
 */
function findUnstorable(value: unknown, path: string[] = []): { path: string[]; why: string } | undefined {
  if (typeof value === 'string')
    return value.includes('\u0000') ? { path, why: 'must not contain a NUL character' } : undefined;
  if (typeof value === 'number')
    return Math.abs(value) > NUMBER_LIMIT
      ? { path, why: `must be between -${NUMBER_LIMIT} and ${NUMBER_LIMIT}` }
      : undefined;
  if (!value || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes('\u0000')) return { path: [...path, key], why: 'must not contain a NUL character' };
    const found = findUnstorable(inner, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

function parse(
  schema: ZodTypeAny | undefined,
  value: unknown,
  status: number,
  where: string,
  guard = true,
): unknown {
  if (!schema) return undefined;
  const bad = guard ? findUnstorable(value) : undefined;
  if (bad) {
    const field = bad.path.length ? bad.path.join('.') : `(${where})`;
    throw new HttpError(status, 'validation_failed', bad.why, field);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : `(${where})`;
  throw new HttpError(status, 'validation_failed', issue.message, field);
}
