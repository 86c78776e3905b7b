import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, killProcess, startProcess, waitForPort } from './processes';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  host: string;
  port: number;
  username: string;
  /** The user's private key (OpenSSH format), as stored in a node's ssh config. */
  privateKey: string;
  /** The server's ed25519 host key as an OpenSSH public-key line, i.e. what `host_key` pins. */
  hostKeyLine: string;
  /** SHA256:... fingerprint of that key. */
  hostKeyFingerprint: string;
  /** Remote command that runs the agent CLI (stand-in for the installed `vpn-agent`). */
  agentCommand: string;
  /** Kills the per-connection sshd processes: every client sees its connection drop. */
  dropConnections(): void;
  stop(): Promise<void>;
}

function keygen(file: string, type: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'vpn-test', '-f', file], { stdio: 'ignore' });
}

/** A fresh ed25519 public-key line that no server uses (for host-key mismatch tests). */
export function randomHostKeyLine(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-key-'));
  try {
    keygen(path.join(dir, 'k'), 'ed25519');
    return readFileSync(path.join(dir, 'k.pub'), 'utf8').trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A real OpenSSH server on a loopback port (as root, keys in a temp dir, pubkey auth only). `agentEnv`
 * goes into a wrapper script that runs infra/agent/cli.ts, as the node installer's `vpn-agent` would.
 */
export async function startSshd(agentEnv: Record<string, string>): Promise<Sshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-sshd-'));
  const port = await freePort();
  // Two host keys, so the test also proves the driver asks for the pinned key type.
  keygen(path.join(dir, 'host_ed25519'), 'ed25519');
  keygen(path.join(dir, 'host_ecdsa'), 'ecdsa');
  keygen(path.join(dir, 'user'), 'ed25519');
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'user.pub')));

  const wrapper = path.join(dir, 'vpn-agent');
  const exports = Object.entries(agentEnv)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
  const cli = path.join(REPO_ROOT, 'infra', 'agent', 'cli.ts');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexport NODE_ENV=test\n${exports}\n` +
      `exec '${process.execPath}' --require '${require.resolve('tsx/cjs')}' '${cli}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);

  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_ed25519')}`,
      `HostKey ${path.join(dir, 'host_ecdsa')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true }); // privilege-separation dir sshd insists on
  const proc = startProcess(SSHD, ['-D', '-e', '-f', config]);
  await waitForPort(port, '127.0.0.1', 10_000, proc);

  const hostKeyLine = readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').trim();
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'host_ed25519.pub')], {
    encoding: 'utf8',
  });
  return {
    host: '127.0.0.1',
    port,
    username: os.userInfo().username,
    privateKey: readFileSync(path.join(dir, 'user'), 'utf8'),
    hostKeyLine,
    hostKeyFingerprint: fp.split(/\s+/)[1],
    agentCommand: wrapper,
    dropConnections: () => {
      const pid = proc.proc.pid;
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      for (const child of children.split(/\s+/).filter(Boolean)) process.kill(Number(child), 'SIGKILL');
    },
    stop: async () => {
      await killProcess(proc.proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
