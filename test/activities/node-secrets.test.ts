import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createNodeActivities } from '../../activities/nodes';
import { createNodeDriver, type NodeConnection } from '../../infra/nodes';
import { reencryptNodeSecrets } from '../../infra/nodes/reencrypt';
import { NodeSecrets, nodeSecretsFromEnv } from '../../infra/nodes/secrets';
import { TS_NODE_ARGS } from '../support/agent';
import { freshDatabase } from '../support/services';
import { type Closeable, killAllStarted, startTlsTarget } from '../support/xray';
import { insertNode, type LiveNode, nodeRow, startLiveNode } from './node-fixture';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('hex');
const SSH_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(30).toString('base64')}\n-----END OPENSSH PRIVATE KEY-----`;

// Agent tokens and SSH keys at rest: rows from before encryption, `npm run migrate` sealing them, and
// a key rotation with NODE_SECRETS_KEY_OLD, all against a real agent on a real Xray.
describe('node secrets at rest (NODE_SECRETS_KEY)', function () {
  this.timeout(120_000);
  let orm: MikroORM;
  let url: string;
  let target: Closeable;
  let live: LiveNode;
  let agentNode: string;
  let sshNode: string;

  const stored = async () =>
    (
      await orm.em
        .getConnection()
        .execute(`select id, agent_token, ssh, vpn_nodes::text as whole from vpn_nodes order by name`)
    ).filter((r) => r.id === agentNode || r.id === sshNode);
  /** One health round with the given keys; returns the agent node's row. */
  const checkWith = async (env: { NODE_SECRETS_KEY?: string; NODE_SECRETS_KEY_OLD?: string }) => {
    const nodes = createNodeActivities({ orm, secrets: nodeSecretsFromEnv(env) });
    await nodes.checkNodes({ failuresToDown: 5 });
    return nodeRow(orm, agentNode);
  };

  before(async () => {
    const [db, tls] = await Promise.all([freshDatabase(), startTlsTarget()]);
    ({ orm, url } = db);
    target = tls;
    live = await startLiveNode(target);
    // As written before encryption existed: plaintext token and SSH key.
    agentNode = await insertNode(orm, {
      name: 'a-agent',
      agentUrl: live.agent.url,
      agentToken: live.agent.token,
    });
    sshNode = await insertNode(orm, {
      name: 'b-ssh',
      driver: 'ssh',
      agentUrl: null,
      agentToken: null,
      status: 'disabled', // not health-checked here; its key is what matters
      ssh: { host: '127.0.0.1', port: 22, username: 'vpn', private_key: SSH_KEY, host_key: 'SHA256:x' },
    });
  });

  after(async () => {
    await live?.stop();
    await target?.close();
    await killAllStarted();
  });

  it('npm run migrate encrypts rows stored in plaintext; the node keeps working', async () => {
    const before = await stored();
    assert.ok(before[0].whole.includes(live.agent.token), 'the legacy row holds the token in clear');
    await live.agent.call('PUT', '/clients/drift-1', { uuid: '6c5f7a53-6b0e-4c55-9f3e-1b6a0e1f0a11' });

    const migrate = await run(process.execPath, [...TS_NODE_ARGS, 'infra/db/migrate.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, NODE_SECRETS_KEY: keyA, LOG_LEVEL: 'info' },
    });
    assert.match(migrate.stdout, /node secrets encrypted/);
    assert.doesNotMatch(
      migrate.stdout + migrate.stderr,
      new RegExp(live.agent.token),
      'no secret in the logs',
    );

    const after = await stored();
    for (const row of after) {
      assert.ok(
        !row.whole.includes(live.agent.token) && !row.whole.includes('PRIVATE KEY'),
        'no plaintext left',
      );
    }
    assert.ok(NodeSecrets.isEncrypted(after[0].agent_token));
    assert.ok(NodeSecrets.isEncrypted(after[1].ssh.private_key));

    const row = await checkWith({ NODE_SECRETS_KEY: keyA });
    assert.equal(row.status, 'up', String(row.last_error));
    assert.equal(
      row.client_count,
      (await live.agent.clients()).length,
      'reconciled with the decrypted token',
    );

    // The SSH driver gets the key in clear, not the envelope.
    const seen: NodeConnection[] = [];
    const nodes = createNodeActivities({
      orm,
      secrets: nodeSecretsFromEnv({ NODE_SECRETS_KEY: keyA }),
      driverFor: (n) => {
        seen.push(n);
        return createNodeDriver({
          ...n,
          driver: 'agent',
          agentUrl: live.agent.url,
          agentToken: live.agent.token,
        });
      },
    });
    await nodes.addClient({
      nodeId: sshNode,
      email: 'ssh-probe',
      uuid: '0f8a2c9e-1d3b-4e5f-8a7b-6c5d4e3f2a1b',
    });
    assert.equal(seen[0].ssh?.private_key, SSH_KEY);
  });

  it('rotation: the old key still decrypts until re-encryption moves every row to the new one', async () => {
    const rotating = { NODE_SECRETS_KEY: keyB, NODE_SECRETS_KEY_OLD: keyA };
    assert.equal((await checkWith(rotating)).status, 'up', 'rows sealed with the old key still work');

    const secrets = nodeSecretsFromEnv(rotating);
    assert.deepEqual(await reencryptNodeSecrets(orm, secrets), { nodes: 2, rewritten: 2 });
    assert.deepEqual(await reencryptNodeSecrets(orm, secrets), { nodes: 2, rewritten: 0 }, 'idempotent');
    for (const row of await stored()) {
      assert.ok(secrets.isCurrent(row.agent_token ?? row.ssh.private_key));
    }

    const onlyNew = await checkWith({ NODE_SECRETS_KEY: keyB });
    assert.deepEqual([onlyNew.status, onlyNew.last_error], ['up', null], 'the old key can go');

    const onlyOld = await checkWith({ NODE_SECRETS_KEY: keyA });
    assert.equal(onlyOld.consecutive_failures, 1);
    assert.match(onlyOld.last_error ?? '', /neither NODE_SECRETS_KEY nor NODE_SECRETS_KEY_OLD/);
    assert.doesNotMatch(onlyOld.last_error ?? '', new RegExp(live.agent.token));
  });

  it('refuses a key that is not 32 bytes', () => {
    assert.throws(
      () => nodeSecretsFromEnv({ NODE_SECRETS_KEY: 'short' }),
      /NODE_SECRETS_KEY must be 32 bytes/,
    );
    assert.throws(
      () => nodeSecretsFromEnv({ NODE_SECRETS_KEY: keyB, NODE_SECRETS_KEY_OLD: `${keyA},nope` }),
      /NODE_SECRETS_KEY_OLD/,
    );
  });
});
