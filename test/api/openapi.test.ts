import assert from 'node:assert/strict';
import { openApiPath } from '../../api/openapi/document';
import { type ApiHarness, startApi } from './harness';

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: Array<{ name: string }> };
}

/** Every method + path express really serves, read from the router stack (not from our route table). */
function servedRoutes(api: ApiHarness): string[] {
  const stack = (api.app as unknown as { router: { stack: Layer[] } }).router.stack;
  return (
    stack
      // The 405 answer for undeclared methods (RouteTable.answerUndeclaredMethods) serves no operation.
      .filter((l) => l.route && !l.route.stack.every((h) => h.name === 'methodNotAllowed'))
      .flatMap((l) =>
        Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${openApiPath(l.route!.path)}`),
      )
      .sort()
  );
}

describe('api: OpenAPI document', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('documents exactly the routes express serves', async () => {
    const res = await api.call('GET', '/openapi.json', { token: null });
    assert.equal(res.status, 200);
    assert.match(res.body.openapi, /^3\.0\./);
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = servedRoutes(api);
    assert.ok(served.length >= 24, `found ${served.length} routes`);
    assert.deepEqual(documented, served);
  });

  it('covers every route of the contract, with auth, parameters and schemas', async () => {
    const { body: doc } = await api.call('GET', '/openapi.json', { token: null });
    const contract = [
      'GET /health',
      'GET /metrics',
      'GET /sub/{token}',
      'POST /api/v1/payments/webhook',
      'GET /api/v1/tariffs',
      'POST /api/v1/users/register',
      'POST /api/v1/payments/create',
      'POST /api/v1/payments/{payment_id}/retry',
      'POST /api/v1/payments/stars/confirm',
      'GET /api/v1/payments/{payment_id}',
      'GET /api/v1/subscriptions/{telegram_id}/status',
      'GET /api/v1/subscriptions/{telegram_id}/config',
      'GET /api/v1/admin/tariffs',
      'POST /api/v1/admin/tariffs',
      'PATCH /api/v1/admin/tariffs/{id}',
      'GET /api/v1/admin/nodes',
      'POST /api/v1/admin/nodes',
      'PATCH /api/v1/admin/nodes/{id}',
      'DELETE /api/v1/admin/nodes/{id}',
      'GET /api/v1/admin/nodes/{id}',
      'POST /api/v1/admin/nodes/{id}/drain',
      'GET /api/v1/admin/stats',
      'GET /api/v1/admin/users/{telegram_id}',
      'GET /api/v1/admin/purchases',
      'GET /openapi.json',
    ];
    for (const entry of contract) {
      const [method, path] = entry.split(' ');
      assert.ok(doc.paths[path]?.[method.toLowerCase()], `${entry} documented`);
    }
    const create = doc.paths['/api/v1/payments/create'].post;
    assert.deepEqual(create.security, [{ apiToken: [] }]);
    assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['telegram_id']);
    assert.ok(create.responses['201'].content['application/json'].schema.properties.confirmation_url);
    assert.ok(create.responses['401']);
    const nodes = doc.paths['/api/v1/admin/nodes'].post;
    assert.deepEqual(nodes.security, [{ adminToken: [] }]);
    assert.ok(nodes.requestBody.content['application/json'].schema.properties.ssh.properties.private_key);
    const purchases = doc.paths['/api/v1/admin/purchases'].get;
    const stage = purchases.parameters.find((p: { name: string }) => p.name === 'stage');
    assert.ok(stage.schema.enum.includes('AWAITING_PAYMENT'));
    const retry = doc.paths['/api/v1/payments/{payment_id}/retry'].post;
    assert.deepEqual(
      retry.parameters.map((p: { name: string; in: string }) => [p.name, p.in]),
      [['payment_id', 'path']],
    );
    assert.equal(doc.paths['/api/v1/payments/webhook'].post.security, undefined);
  });
});
