import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Every process a test starts through here; killAllStarted() is the safety net for `after` hooks. */
const started = new Set<ChildProcess>();

export interface Started {
  proc: ChildProcess;
  /** Last output lines, for error messages when the process misbehaves. */
  output(): string;
}

export function startProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Started {
  const proc = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(proc);
  proc.on('exit', () => started.delete(proc));
  let buffer = '';
  const keep = (d: Buffer) => {
    buffer = (buffer + d.toString('utf8')).slice(-8_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, output: () => buffer };
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
export async function killProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3_000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function killAllStarted(): Promise<void> {
  await Promise.all([...started].map((p) => killProcess(p, 'SIGKILL')));
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000, proc?: Started) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (proc && proc.proc.exitCode !== null) {
      throw new Error(`process exited (${proc.proc.exitCode}) before listening on ${port}: ${proc.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}: ${proc?.output() ?? ''}`);
    await sleep(50);
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(100);
  }
}
