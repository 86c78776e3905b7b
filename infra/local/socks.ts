import http from 'node:http';
import net from 'node:net';

/** Minimal SOCKS5 CONNECT (no auth): resolves with a socket already tunnelled to host:port. */
export function socksConnect(
  socksPort: number,
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: socksPort });
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error('socks handshake timed out')));
    socket.once('error', fail);
    let stage = 0;
    let buf = Buffer.alloc(0);
    socket.on('connect', () => socket.write(Buffer.from([5, 1, 0])));
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        if (buf[0] !== 5 || buf[1] !== 0) return fail(new Error('socks: no acceptable auth method'));
        buf = buf.subarray(2);
        stage = 1;
        const kind = net.isIPv4(host) ? 1 : 3;
        const addr =
          kind === 1
            ? Buffer.from(host.split('.').map(Number))
            : Buffer.concat([Buffer.from([Buffer.byteLength(host)]), Buffer.from(host)]);
        const portBuf = Buffer.alloc(2);
        portBuf.writeUInt16BE(port);
        socket.write(Buffer.concat([Buffer.from([5, 1, 0, kind]), addr, portBuf]));
      }
      if (stage === 1 && buf.length >= 10) {
        if (buf[1] !== 0) return fail(new Error(`socks: connect refused (reply ${buf[1]})`));
        socket.off('data', onData);
        socket.setTimeout(0);
        socket.removeListener('error', fail);
        resolve(socket); // the reply's bound address (10 bytes for IPv4) is all we drop
      }
    };
    socket.on('data', onData);
  });
}

export interface SocksResponse {
  status: number;
  body: Buffer;
}

/**
 * HTTP GET through a SOCKS5 proxy (the Xray client's inbound). Rejects if the tunnel breaks, e.g.
 * because the server revoked the user. `onChunk` sees the body as it streams.
 */
export async function httpGetViaSocks(
  socksPort: number,
  url: string,
  opts: { timeoutMs?: number; onChunk?: (chunk: Buffer) => void } = {},
): Promise<SocksResponse> {
  const target = new URL(url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const socket = await socksConnect(socksPort, target.hostname, Number(target.port || 80), timeoutMs);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        // No `agent` at all: with any agent (even false) Node ignores createConnection and dials directly.
        createConnection: () => socket,
        headers: { connection: 'close' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          opts.onChunk?.(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}
