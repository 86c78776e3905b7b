import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { NodeSecrets, nodeSecretsFromEnv } from '../../infra/nodes/secrets';
import { makeSelfSignedCert } from '../support/sites';
import { ADMIN_TOKEN, type ApiHarness, startApi } from './harness';

const NODE_SECRETS_KEY = randomBytes(32).toString('base64');
const admin = { token: ADMIN_TOKEN };
const AGENT_TOKEN = `agent-token-${randomBytes(12).toString('hex')}`;
const SSH_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(40).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----`;
const body = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  host: 'nl1.vpn.example',
  port: 443,
  location: 'nl',
  country_code: 'NL',
  capacity: 100,
  driver: 'agent',
  agent_url: 'https://nl1.vpn.example:8444',
  agent_token: AGENT_TOKEN,
  reality: { public_key: 'pbk', short_id: 'ab', server_name: 'www.example.com' },
  ...extra,
});

// Item 14 of the review: where the orchestrator may send its agent token, and how it keeps secrets.
describe('api: admin nodes, agent endpoint and secrets', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi({ env: { NODE_SECRETS_KEY } });
  });
  after(() => api.close());

  const raw = async (id: string) =>
    (
      await api.orm.em
        .getConnection()
        .execute(
          `select agent_token, ssh, agent_cert_sha256, vpn_nodes::text as whole from vpn_nodes where id = ?`,
          [id],
        )
    )[0];

  it('refuses an http:// agent_url for a host that is not loopback (422 naming agent_url)', async () => {
    for (const url of [
      'http://203.0.113.10:8444',
      'http://nl1.vpn.example:8444',
      'https://u:p@nl1.vpn.example',
    ]) {
      const res = await api.call('POST', '/api/v1/admin/nodes', {
        ...admin,
        body: body(`bad-${randomBytes(3).toString('hex')}`, { agent_url: url }),
      });
      assert.deepEqual(
        [res.status, res.body.field],
        [422, 'agent_url'],
        `${url}: ${JSON.stringify(res.body)}`,
      );
    }
    const local = await api.call('POST', '/api/v1/admin/nodes', {
      ...admin,
      body: body('local-agent', { agent_url: 'http://127.0.0.1:8444' }),
    });
    assert.equal(local.status, 201, 'a loopback agent may use plain http');
    const patched = await api.call('PATCH', `/api/v1/admin/nodes/${local.body.id}`, {
      ...admin,
      body: { agent_url: 'http://198.51.100.7:8444' },
    });
    assert.deepEqual([patched.status, patched.body.field], [422, 'agent_url'], 'also on PATCH');
  });

  it('stores the pinned certificate fingerprint, normalised, and checks it', async () => {
    const pin = new X509Certificate(makeSelfSignedCert('nl1.vpn.example').cert).fingerprint256;
    const created = await api.call('POST', '/api/v1/admin/nodes', {
      ...admin,
      body: body('pinned', { agent_cert_sha256: pin.replace(/:/g, '').toLowerCase() }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.agent_cert_sha256, pin);
    assert.equal((await raw(created.body.id)).agent_cert_sha256, pin);
    const bad = await api.call('PATCH', `/api/v1/admin/nodes/${created.body.id}`, {
      ...admin,
      body: { agent_cert_sha256: 'not-a-fingerprint' },
    });
    assert.deepEqual([bad.status, bad.body.field], [422, 'agent_cert_sha256']);
    const overHttp = await api.call('POST', '/api/v1/admin/nodes', {
      ...admin,
      body: body('pinned-http', { agent_url: 'http://127.0.0.1:8444', agent_cert_sha256: pin }),
    });
    assert.deepEqual([overHttp.status, overHttp.body.field], [422, 'agent_cert_sha256']);
    const rotated = await api.call('PATCH', `/api/v1/admin/nodes/${created.body.id}`, {
      ...admin,
      body: { agent_cert_sha256: null },
    });
    assert.deepEqual([rotated.status, rotated.body.agent_cert_sha256], [200, null]);
  });

  it('keeps agent tokens and SSH private keys encrypted in PostgreSQL, never in the answer', async () => {
    const created = await api.call('POST', '/api/v1/admin/nodes', {
      ...admin,
      body: body('sealed', {
        ssh: {
          host: 'nl1.vpn.example',
          port: 22,
          username: 'vpn',
          private_key: SSH_KEY,
          host_key: 'SHA256:x',
        },
      }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.doesNotMatch(JSON.stringify(created.body), new RegExp(`${AGENT_TOKEN}|PRIVATE KEY`));
    const row = await raw(created.body.id);
    assert.ok(NodeSecrets.isEncrypted(row.agent_token), row.agent_token);
    assert.ok(NodeSecrets.isEncrypted(row.ssh.private_key));
    assert.ok(
      !row.whole.includes(AGENT_TOKEN) && !row.whole.includes('PRIVATE KEY'),
      'no plaintext anywhere',
    );
    const secrets = nodeSecretsFromEnv({ NODE_SECRETS_KEY });
    assert.equal(secrets.open(row.agent_token, 'agent_token'), AGENT_TOKEN);
    assert.equal(secrets.open(row.ssh.private_key, 'ssh.private_key'), SSH_KEY);
    // A token rotated through PATCH is sealed too.
    const next = `agent-token-${randomBytes(12).toString('hex')}`;
    await api.call('PATCH', `/api/v1/admin/nodes/${created.body.id}`, {
      ...admin,
      body: { agent_token: next },
    });
    const after = await raw(created.body.id);
    assert.equal(secrets.open(after.agent_token, 'agent_token'), next);
    assert.ok(!after.whole.includes(next));
  });
});
