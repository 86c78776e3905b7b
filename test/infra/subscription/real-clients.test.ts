import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureSingBoxBinary } from '../../../infra/sing-box/binary';
import { renderBase64 } from '../../../infra/subscription/base64';
import { placeholderNode } from '../../../infra/subscription/placeholder';
import { renderSingBox } from '../../../infra/subscription/singbox';
import { renderXrayJson } from '../../../infra/subscription/xray-json';
import { ensureXrayBinary } from '../../../infra/xray/binary';
import { freePort, killProcess, startProcess, waitForPort } from '../../support/processes';
import { httpGetViaSocks, startXrayClient } from '../../support/xray';
import { type RealNode, startRealNode } from './real-node';

const run = promisify(execFile);
// biome-ignore lint/suspicious/noExplicitAny: client configs are edited freely
type Json = any;

/** Validate with the client's own checker; the error output names the bad field. */
async function check(bin: string, args: string[]): Promise<void> {
  try {
    await run(bin, args, { timeout: 30_000 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    assert.fail(
      `${path.basename(bin)} ${args.join(' ')} rejected the config:\n${err.stderr || err.stdout || err.message}`,
    );
  }
}

/** Run a client binary on a config file, wait for its local proxy port, GET through it, stop it. */
async function fetchThrough(bin: string, args: string[], socksPort: number, url: string) {
  const proc = startProcess(bin, args);
  try {
    await waitForPort(socksPort, '127.0.0.1', 15_000, proc);
    return await httpGetViaSocks(socksPort, url, { timeoutMs: 10_000 });
  } finally {
    await killProcess(proc.proc);
  }
}

// Real clients configured only from our answers carry traffic through a real Reality node.
describe('subscription formats with real clients (sing-box, Xray) and a real Reality node', function () {
  this.timeout(20 * 60_000); // the first run builds sing-box with Go
  let node: RealNode;
  let dir: string;
  let singBox: string;
  let xray: string;

  before(async () => {
    [node, singBox, xray] = await Promise.all([startRealNode(), ensureSingBoxBinary(), ensureXrayBinary()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-sub-clients-'));
  });
  after(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function assertCarried(res: { status: number; body: Buffer }, before: number) {
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello through vless');
    assert.ok((await node.userTraffic()) > before, 'the node counted the traffic for our user');
  }

  it('sing-box: `sing-box check` accepts the profile as served, and the placeholder profile too', async () => {
    const file = path.join(dir, 'singbox.json');
    writeFileSync(file, renderSingBox([node.node]));
    await check(singBox, ['check', '-c', file]);
    const blocked = path.join(dir, 'singbox-expired.json');
    writeFileSync(blocked, renderSingBox([placeholderNode('expired', 'ru', 'https://t.me/my_vpn_bot')]));
    await check(singBox, ['check', '-c', blocked]);
  });

  it('sing-box: a real sing-box client run from the profile carries traffic through the node', async () => {
    const config: Json = JSON.parse(renderSingBox([node.node]));
    // Only the local side changes: a device runs the tun inbound (root, its own routing) — here the
    // profile's own loopback mixed inbound is used on a free port; interface binding exists only for tun.
    const port = await freePort();
    config.inbounds = config.inbounds.filter((i: Json) => i.type !== 'tun');
    config.inbounds.find((i: Json) => i.type === 'mixed').listen_port = port;
    delete config.route.auto_detect_interface;
    const file = path.join(dir, 'singbox-run.json');
    writeFileSync(file, JSON.stringify(config));
    const before = await node.userTraffic();
    const res = await fetchThrough(singBox, ['run', '-c', file, '-D', dir], port, node.webUrl('/hello'));
    await assertCarried(res, before);
  });

  it('Xray JSON: `xray run -test` accepts each config; a real Xray run from it carries traffic', async () => {
    const configs: Json[] = JSON.parse(renderXrayJson([node.node]));
    assert.equal(configs.length, 1);
    const file = path.join(dir, 'xray.json');
    writeFileSync(file, JSON.stringify(configs[0]));
    await check(xray, ['run', '-test', '-c', file]);
    const blocked = path.join(dir, 'xray-expired.json');
    writeFileSync(blocked, JSON.stringify(JSON.parse(renderXrayJson([placeholderNode('expired', 'en')]))[0]));
    await check(xray, ['run', '-test', '-c', blocked]);

    const [socks, http] = [await freePort(), await freePort()];
    configs[0].inbounds[0].port = socks; // only the local ports change
    configs[0].inbounds[1].port = http;
    writeFileSync(file, JSON.stringify(configs[0]));
    const before = await node.userTraffic();
    const res = await fetchThrough(xray, ['run', '-c', file], socks, node.webUrl('/hello'));
    await assertCarried(res, before);
  });

  it('base64: a real Xray client configured from the decoded vless:// link carries traffic', async () => {
    const [link] = Buffer.from(renderBase64([node.node]), 'base64')
      .toString('utf8')
      .split('\n');
    const client = await startXrayClient(link);
    try {
      const before = await node.userTraffic();
      const res = await httpGetViaSocks(client.socksPort, node.webUrl('/hello'), { timeoutMs: 10_000 });
      await assertCarried(res, before);
    } finally {
      await client.stop();
    }
  });
});
