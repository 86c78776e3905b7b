import net from 'node:net';
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

/** True once the child listens on `port`, false if it exited first. */
export function listening(
  child: { exited: Promise<unknown> },
  port: number,
  timeoutMs: number,
): Promise<boolean> {
  const up = waitForPort(port, timeoutMs).then(() => true);
  return Promise.race([up, child.exited.then(() => false)]);
}
