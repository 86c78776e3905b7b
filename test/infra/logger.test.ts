import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../infra/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger('test', stream) };
}

describe('logging', () => {
  it('never writes tokens, secret keys, authorization headers, passwords or private keys', () => {
    const { lines, logger } = capture();
    const secrets = {
      token: 'bot-token-123:SECRET',
      secretKey: 'live_secret_key_abc',
      password: 'hunter2-password',
      privateKey: '-----BEGIN OPENSSH PRIVATE KEY----- abc',
    };
    logger.warn({ ...secrets, req: { headers: { authorization: 'Bearer api-token-xyz' } } }, 'request');
    logger.warn(
      { node: { agent_token: 'agent-token-777', ssh: { private_key: 'ssh-private-888' } } },
      'node',
    );
    logger.warn(
      { yookassa: { secretKey: 'nested-secret-999' }, config: { apiToken: 'api-token-111' } },
      'config',
    );
    const out = lines.join('');
    for (const value of [
      ...Object.values(secrets),
      'api-token-xyz',
      'agent-token-777',
      'ssh-private-888',
      'nested-secret-999',
      'api-token-111',
    ]) {
      assert.ok(!out.includes(value), `${value} leaked: ${out}`);
    }
    assert.match(out, /\[redacted\]/);
    assert.equal(lines.length, 3, 'the lines themselves are still written');
  });
});
