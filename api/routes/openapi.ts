import type { ApiDeps } from '../deps';
import { buildOpenApiDocument } from '../openapi/document';
import type { RouteTable } from '../route-table';

/** Registered last: the document covers every route in the table, itself included. */
export function openApiRoutes(routes: RouteTable, _deps: ApiDeps): void {
  let doc: unknown;
  routes.add(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This document',
      tag: 'public',
      auth: 'none',
      responses: { 200: { description: 'OpenAPI 3.0 document' } },
    },
    (_input, _req, res) => {
      doc ??= buildOpenApiDocument(routes.routes);
      res.json(doc);
    },
  );
}
