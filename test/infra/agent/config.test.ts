import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { AgentConfigError, parseAgentCliConfig, parseAgentConfig } from '../../../infra/agent/config';
import { TS_NODE_ARGS } from '../../support/agent';

const MAIN = path.resolve(__dirname, '../../../infra/agent/main.ts');
const TOKEN = 'x'.repeat(32);

describe('node agent config', () => {
  it('applies the documented defaults', () => {
    const c = parseAgentConfig({ AGENT_TOKEN: TOKEN, AGENT_DATA_DIR: '/tmp/agent-x' });
    assert.equal(c.port, 8444);
    assert.equal(c.xrayApi, '127.0.0.1:10085');
    assert.equal(c.inboundTag, 'vless-reality');
    assert.equal(c.dataDir, '/tmp/agent-x');
    assert.equal(c.spawnXray, false);
    assert.equal(c.reconcileIntervalMs, 3_000);
  });

  it('names the offending variable', () => {
    const bad: [NodeJS.ProcessEnv, RegExp][] = [
      [{}, /AGENT_TOKEN is required/],
      [{ AGENT_TOKEN: 'short' }, /AGENT_TOKEN must be at least 16/],
      [{ AGENT_TOKEN: TOKEN, AGENT_PORT: 'http' }, /AGENT_PORT/],
      [{ AGENT_TOKEN: TOKEN, XRAY_API: 'localhost' }, /XRAY_API must look like host:port/],
      [{ AGENT_TOKEN: TOKEN, XRAY_BIN: '/nonexistent/xray' }, /XRAY_BIN file does not exist/],
      [{ AGENT_TOKEN: TOKEN, AGENT_TLS_CERT: __filename }, /AGENT_TLS_CERT and AGENT_TLS_KEY/],
      [{ AGENT_TOKEN: TOKEN, AGENT_SPAWN_XRAY: '1' }, /XRAY_BIN is required/],
    ];
    for (const [env, message] of bad) {
      assert.throws(
        () => parseAgentConfig(env),
        (e: Error) => e instanceof AgentConfigError && message.test(e.message),
      );
    }
  });

  it('the CLI needs no token or port, only the store and Xray', () => {
    const c = parseAgentCliConfig({ XRAY_API: '[::1]:10085' });
    assert.equal(c.xrayApi, '[::1]:10085');
    assert.ok(path.isAbsolute(c.dataDir));
  });

  it('`npm run agent` with a bad config exits 1 with one line and no stack trace', () => {
    const env = { PATH: process.env.PATH, XRAY_API: 'nonsense' };
    const r = spawnSync(process.execPath, [...TS_NODE_ARGS, MAIN], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'config error: XRAY_API must look like host:port\n');
  });
});
