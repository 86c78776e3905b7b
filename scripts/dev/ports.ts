import net from 'node:net';
import type { Child } from './children';
import { freePort, waitForPort } from '../../infra/local/postgres';

export { freePort, waitForPort } from '../../infra/local/postgres';

/** True when nothing listens on 127.0.0.1:port and we may bind it. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** `preferred` when it is free, otherwise any free port. */
export async function preferPort(preferred: number | undefined): Promise<number> {
  if (preferred && (await portFree(preferred))) return preferred;
  return freePort();
}

/** A free port p with p+1 free too (the worker serves its metrics on p and Temporal's on p+1). */
export async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && (await portFree(p + 1))) return p;
  }
  throw new Error('no two adjacent free ports found');
}

/** Resolves once the child listens on `port`; throws if it exits first or the time runs out. */
export async function listening(child: Child, port: number, timeoutMs: number): Promise<void> {
  const up = waitForPort(port, timeoutMs).then(
    () => 'up' as const,
    () => 'timeout' as const,
  );
  const result = await Promise.race([up, child.exited.then((how) => ({ how }))]);
  if (result === 'up') return;
  if (result === 'timeout') {
    throw new Error(`${child.name} does not listen on ${port} after ${timeoutMs / 1000} s`);
  }
  throw new Error(`${child.name} exited (${result.how}) before listening on ${port}; see its output above`);
}
