import type { ZodTypeAny } from 'zod';
import { z } from 'zod';
import type { RouteSpec } from '../route-table';
import { errorBody } from '../schemas';
import { type SchemaObject, toOpenApiSchema } from './zod-schema';

type Doc = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

/** Express "/a/:id/b" → OpenAPI "/a/{id}/b". */
export const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, '{$1}');

const SECURITY: Record<string, { scheme: string; description: string }> = {
  api: { scheme: 'apiToken', description: 'API_TOKEN (the bot)' },
  admin: { scheme: 'adminToken', description: 'ADMIN_TOKEN (operators)' },
  metrics: { scheme: 'metricsToken', description: 'METRICS_TOKEN (the Prometheus scraper)' },
};

/** OpenAPI 3.0 of the declared routes; request and response schemas come from the same zod schemas. */
export function buildOpenApiDocument(routes: RouteSpec[]): Doc {
  const paths: Doc['paths'] = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'VPN seller API',
      version: '1.0.0',
      description: 'Bot-facing, admin and public endpoints. Errors: {error, field?, message?}.',
    },
    paths,
    components: {
      securitySchemes: {
        apiToken: { type: 'http', scheme: 'bearer', description: SECURITY.api.description },
        adminToken: { type: 'http', scheme: 'bearer', description: SECURITY.admin.description },
        adminReadToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'ADMIN_READ_TOKEN (read-only: GET admin routes only; writes answer 403 read_only_token)',
        },
        metricsToken: { type: 'http', scheme: 'bearer', description: SECURITY.metrics.description },
      },
    },
  };
}

function operation(route: RouteSpec): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string) => (c ? c.toUpperCase() : ''))}`,
    summary: route.summary,
    tags: [route.tag],
    parameters: [
      ...parameters(route.params, 'path'),
      ...parameters(route.query, 'query'),
      ...parameters(route.headers, 'header'),
    ],
    responses: responses(route),
  };
  if (SECURITY[route.auth]) op.security = [{ [SECURITY[route.auth].scheme]: [] }];
  if (route.auth === 'admin' && isRead(route)) op.security = [{ adminToken: [] }, { adminReadToken: [] }];
  if (route.body) {
    op.requestBody = {
      // A body whose every field is optional (a PATCH) may be left out altogether.
      required: !route.body.safeParse({}).success,
      content: { 'application/json': { schema: toOpenApiSchema(route.body) } },
    };
  }
  return op;
}

function parameters(
  schema: ZodTypeAny | undefined,
  where: 'path' | 'query' | 'header',
): Record<string, unknown>[] {
  if (!schema) return [];
  const object = unwrap(schema);
  if (!(object instanceof z.ZodObject)) return [];
  return Object.entries(object.shape as Record<string, ZodTypeAny>).map(([name, field]) => {
    const fieldSchema: SchemaObject = toOpenApiSchema(field);
    const { description, ...rest } = fieldSchema;
    return {
      name,
      in: where,
      required: where === 'path' || !field.isOptional(),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const errorContent = { content: { 'application/json': { schema: toOpenApiSchema(errorBody) } } };

export const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

function responses(route: RouteSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    const type = r.contentType ?? 'application/json';
    const schema = r.schema
      ? toOpenApiSchema(r.schema)
      : type === 'application/json'
        ? { type: 'object' }
        : { type: 'string' };
    out[status] = {
      description: r.description,
      ...(r.headers ? { headers: headerObjects(r.headers) } : {}),
      content: { [type]: { schema } },
    };
  }
  if (route.auth !== 'none') out['401'] ??= { description: 'Missing or wrong bearer token', ...errorContent };
  if (route.auth === 'admin' && !isRead(route))
    out['403'] ??= {
      description: 'The read-only ADMIN_READ_TOKEN cannot write (read_only_token)',
      ...errorContent,
    };
  const invalid = String(route.invalidStatus ?? 422);
  if (route.params || route.query || route.body || route.headers) {
    out[invalid] ??= { description: 'Invalid input: `field` names it, `message` says why', ...errorContent };
  }
  if (route.body) {
    out['400'] ??= { description: 'The body is not valid JSON (`malformed_json`)', ...errorContent };
    out['413'] ??= { description: 'The body is over 64 kB (`payload_too_large`)', ...errorContent };
  }
  if (route.auth === 'api') {
    out['429'] ??= {
      description: 'Too many requests from this client (`rate_limited`); `Retry-After` says when to retry',
      headers: RETRY_AFTER,
      ...errorContent,
    };
  }
  return out;
}

const isRead = (route: RouteSpec) => route.method === 'get';

function unwrap(schema: ZodTypeAny): ZodTypeAny {
  let s = schema;
  while (s instanceof z.ZodEffects || s instanceof z.ZodOptional || s instanceof z.ZodDefault) {
    s = s instanceof z.ZodEffects ? s._def.schema : s._def.innerType;
  }
  return s;
}

/** A documented header is either just its meaning (a string) or a full OpenAPI header object. */
function headerObjects(headers: Record<string, string | Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, h]) => [
      name,
      typeof h === 'string' ? { description: h, schema: { type: 'string' } } : h,
    ]),
  );
}
