// Part 5 of test:deploy: infra/deploy/install-node.sh on a fresh Debian machine (a local/debian:bookworm
// container on the host network), as an operator runs it on a new VPS, in its --no-systemd mode. The
// node it makes is registered through the admin API with the body the installer prints.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, docker } from './docker';
import { until } from './drive';

export const NODE_CONTAINER = 'vpn-seller-test-node';
const CACHE = path.join(os.homedir(), '.cache', 'vpn-deploy');

/**
 * An unpacked Node.js 20 distribution (bin/node, bin/npm, lib/node_modules) made from the host's own
 * Node, for the installer's --node-dist (nodejs.org cannot be reached here).
 */
export function nodeDist(): string {
  const dir = path.join(CACHE, `node-dist-${process.version}`);
  if (existsSync(path.join(dir, 'bin', 'node'))) return dir;
  const prefix = path.dirname(
    path.dirname(execFileSync('readlink', ['-f', process.execPath], { encoding: 'utf8' }).trim()),
  );
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  cpSync(path.join(prefix, 'bin', 'node'), path.join(dir, 'bin', 'node'));
  cpSync(path.join(prefix, 'lib', 'node_modules'), path.join(dir, 'lib', 'node_modules'), {
    recursive: true,
  });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(dir, 'bin', 'npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(dir, 'bin', 'npx'));
  readlinkSync(path.join(dir, 'bin', 'npm'));
  return dir;
}

export interface InstalledNode {
  registration: Record<string, unknown>;
  seconds: number;
  log: string;
}

/**
 * Runs the installer in a fresh container: apt installs its packages from the Debian mirror, npm ci
 * fetches the agent's modules from the registry (the host's npm cache is mounted to spare the network),
 * Xray and Node come from files (the --xray-bin / --node-dist offline options).
 */
export async function installNodeInContainer(opts: {
  xrayBin: string;
  nodePort: number;
  agentPort: number;
  xrayApiPort: number;
  target: string;
  sni: string;
  location: string;
}): Promise<InstalledNode> {
  const t0 = Date.now();
  await docker(['rm', '-f', NODE_CONTAINER]).catch(() => undefined);
  const npmCache = path.join(os.homedir(), '.npm');
  const ca = '/usr/local/share/ca-certificates';
  const script = [
    'set -euo pipefail',
    // A fresh minbase has no CA bundle, curl or unzip: the installer's own package step adds them, and
    // ca-certificates then also trusts the host's extra CAs (mounted below) for npm over https.
    'export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm_config_cafile=/etc/ssl/certs/ca-certificates.crt',
    `NODE_XRAY_API=127.0.0.1:${opts.xrayApiPort} bash /src/infra/deploy/install-node.sh --no-systemd --allow-private-destinations \\`,
    `  --host 127.0.0.1 --name installer-node --port ${opts.nodePort} --location ${opts.location} --country NL \\`,
    `  --capacity 500 --agent-port ${opts.agentPort} --agent-plain-http --agent-url http://127.0.0.1:${opts.agentPort} \\`,
    `  --sni ${opts.sni} --target ${opts.target} --xray-bin /xray/xray --node-dist /node-dist --agent-source /src`,
    'echo INSTALLER_DONE',
    'exec sleep infinity',
  ].join('\n');
  await docker(
    [
      'run',
      '-d',
      '--name',
      NODE_CONTAINER,
      '--network',
      'host',
      '--label',
      'vpn-seller-test=node',
      '-v',
      `${ROOT}:/src:ro`,
      '-v',
      `${path.dirname(opts.xrayBin)}:/xray:ro`,
      '-v',
      `${nodeDist()}:/node-dist:ro`,
      '-v',
      `${npmCache}:/root/.npm`,
      ...(existsSync(ca) ? ['-v', `${ca}:${ca}:ro`] : []),
      'local/debian:bookworm',
      'bash',
      '-c',
      script,
    ],
    { timeoutMs: 60_000 },
  );
  let log = '';
  await until(
    async () => {
      log = await docker(['logs', NODE_CONTAINER]).catch(() => log);
      const state = (await docker(['inspect', '-f', '{{.State.Running}}', NODE_CONTAINER])).trim();
      if (state !== 'true') throw new Error(`the installer container stopped:\n${log.slice(-3000)}`);
      return log.includes('INSTALLER_DONE');
    },
    'install-node.sh in the fresh container',
    900_000,
    2000,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n--- installer output ---\n${log.slice(-4000)}`);
  });
  // The body of the printed registration call (single-quoted JSON after -d).
  const block = /# --- BEGIN NODE REGISTRATION ---([\s\S]*?)# --- END NODE REGISTRATION ---/.exec(log)?.[1];
  const body = block && /-d '([\s\S]*)'\s*$/.exec(block.trim())?.[1];
  if (!body) throw new Error(`no registration block in the installer output:\n${log.slice(-3000)}`);
  return { registration: JSON.parse(body.replace(/'\\''/g, "'")), seconds: (Date.now() - t0) / 1000, log };
}

export async function removeNodeContainer(): Promise<void> {
  await docker(['rm', '-f', NODE_CONTAINER]).catch(() => undefined);
}
