import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

/** The SNI Reality borrows in tests (served by startTlsTarget). */
export const TARGET_NAME = 'reality-target.test';

export interface Closeable {
  port: number;
  close(): Promise<void>;
}

/** Self-signed EC cert + key (PEM) made by openssl, valid for `name` and 127.0.0.1. */
export function makeSelfSignedCert(name = TARGET_NAME): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-tls-'));
  try {
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`],
        ...['-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`],
      ],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TLS 1.3 site with a self-signed cert whose handshake Reality borrows. */
export async function startTlsTarget(): Promise<Closeable> {
  const { cert, key } = makeSelfSignedCert();
  const server = tls.createServer(
    { key, cert, minVersion: 'TLSv1.3', ALPNProtocols: ['h2', 'http/1.1'] },
    (socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
  );
  server.on('tlsClientError', () => undefined); // probes by Reality/clients are expected
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The site users browse: /hello, and /slow?chunks=N&ms=M streaming N chunks of 16 KiB M ms apart. */
export async function startHttpTarget(): Promise<Closeable & { url(p: string): string }> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/hello') return res.end('hello through vless');
    if (u.pathname !== '/slow') return res.writeHead(404).end();
    const chunks = Number(u.searchParams.get('chunks') ?? 10);
    const ms = Number(u.searchParams.get('ms') ?? 300);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(Buffer.alloc(16 * 1024, sent % 256));
      if (++sent >= chunks) {
        clearInterval(timer);
        res.end();
      }
    }, ms);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
