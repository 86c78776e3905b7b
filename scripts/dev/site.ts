import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

/** The SNI the local node's Reality inbound answers to; its handshake is borrowed from our TLS site. */
export const SITE_NAME = 'www.local-dev.test';

/** Self-signed EC cert for SITE_NAME, made once by openssl and kept in `dir`. */
function siteCert(dir: string): { cert: string; key: string } {
  const [key, cert] = [path.join(dir, 'site-key.pem'), path.join(dir, 'site-cert.pem')];
  if (!existsSync(key) || !existsSync(cert)) {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', key, '-out', cert, '-days', '3650', '-subj', `/CN=${SITE_NAME}`],
        ...['-addext', `subjectAltName=DNS:${SITE_NAME},IP:127.0.0.1`],
      ],
      { stdio: 'pipe' },
    );
  }
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** A local TLS 1.3 site (Reality's "target"); returns its port and a close function. */
export async function startTlsSite(dir: string): Promise<{ port: number; close(): Promise<void> }> {
  const { cert, key } = siteCert(dir);
  const server = tls.createServer(
    { key, cert, minVersion: 'TLSv1.3', ALPNProtocols: ['h2', 'http/1.1'] },
    (socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
  );
  server.on('tlsClientError', () => undefined); // Reality's probes are expected
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
