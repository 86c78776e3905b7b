import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ZodTypeAny, z } from 'zod';
import { HttpError } from './errors';

export type Auth = 'api' | 'admin' | 'none';
export type Method = 'get' | 'post' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** Documents the JSON body; tests also parse answers with it. */
  schema?: ZodTypeAny;
  /** Default application/json. */
  contentType?: string;
  /** Response headers worth documenting: name → meaning. */
  headers?: Record<string, string>;
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
  responses: Record<number, ResponseSpec>;
  /** Status for input failing its schema: 422 unless the caller's protocol says otherwise. */
  invalidStatus?: 400 | 422;
  /** Runs before the body is read (e.g. the webhook source allowlist). */
  before?: RequestHandler[];
}

type Out<S> = S extends ZodTypeAny ? z.output<S> : undefined;
export interface Input<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}
export type Handler<P, Q, B> = (input: Input<P, Q, B>, req: Request, res: Response) => unknown;

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
        body: parse(spec.body, req.body ?? {}, status, 'body'),
      } as Input<P, Q, B>;
      await handler(input, req, res);
    };
    const chain = [
      ...(spec.before ?? []),
      ...this.auth[spec.auth],
      ...(spec.body ? [jsonBody] : []),
      validate,
    ];
    this.router[spec.method](spec.path, ...chain);
  }
}

function parse(schema: ZodTypeAny | undefined, value: unknown, status: number, where: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : `(${where})`;
  throw new HttpError(status, 'validation_failed', issue.message, field);
}
