import http from 'node:http';
import { distribution } from './stats';

/**
 * A small autocannon-like load loop (autocannon is not a dependency): `connections` keep-alive sockets,
 * each sending its next request as soon as the previous answer is read, for `durationMs`.
 */
export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  max: number;
  /** Answers by status code. */
  statuses: Record<number, number>;
  errors: number;
}

export async function httpLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const url = new URL(o.url);
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  const once = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: o.method ?? 'GET',
          headers: { ...o.headers, ...(o.body ? { 'content-length': Buffer.byteLength(o.body) } : {}) },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(o.body);
    });
  const t0 = performance.now();
  const stopAt = t0 + o.durationMs;
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      while (performance.now() < stopAt) await once();
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  const d = distribution(latencies);
  return {
    requests: latencies.length,
    rps: Math.round(latencies.length / elapsed),
    p50: d.p50,
    p95: d.p95,
    max: d.max,
    statuses,
    errors,
  };
}
