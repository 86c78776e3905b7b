import { Worker } from 'node:worker_threads';
import { distribution } from './stats';

/**
 * A small autocannon-like load loop (autocannon is not a dependency): `connections` keep-alive sockets,
 * each sending its next request as soon as the previous answer is read, for `durationMs`. The loop runs
 * on a worker thread of its own, as autocannon runs in a process of its own: the servers under load keep
 * the bench's event loop, and the client's own cost (about as much as a hello route's) is not charged to
 * them.
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

interface LoopOutput {
  latencies: number[];
  statuses: Record<number, number>;
  errors: number;
  elapsedS: number;
}

// Plain JavaScript: a worker thread evaluates it without the TypeScript loader.
const LOOP = `
const http = require('node:http');
const { parentPort, workerData: o } = require('node:worker_threads');
const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
const url = new URL(o.url);
const latencies = [];
const statuses = {};
let errors = 0;
const headers = { ...o.headers, ...(o.body ? { 'content-length': Buffer.byteLength(o.body) } : {}) };
const once = () => new Promise((resolve) => {
  const t0 = performance.now();
  const req = http.request(
    { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: o.method || 'GET', headers },
    (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        latencies.push(performance.now() - t0);
        statuses[res.statusCode || 0] = (statuses[res.statusCode || 0] || 0) + 1;
        resolve();
      });
    },
  );
  req.on('error', () => { errors++; resolve(); });
  req.end(o.body);
});
const t0 = performance.now();
const stopAt = t0 + o.durationMs;
Promise.all(Array.from({ length: o.connections }, async () => {
  while (performance.now() < stopAt) await once();
})).then(() => {
  const elapsedS = (performance.now() - t0) / 1000;
  agent.destroy();
  parentPort.postMessage({ latencies, statuses, errors, elapsedS });
});
`;

export async function httpLoad(o: LoadOptions): Promise<LoadResult> {
  const out = await new Promise<LoopOutput>((resolve, reject) => {
    const worker = new Worker(LOOP, { eval: true, workerData: o });
    let answered = false;
    worker.once('message', (m: LoopOutput) => {
      answered = true;
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`load loop exited with ${code} before answering`));
    });
  });
  const d = distribution(out.latencies);
  return {
    requests: out.latencies.length,
    rps: Math.round(out.latencies.length / out.elapsedS),
    p50: d.p50,
    p95: d.p95,
    max: d.max,
    statuses: out.statuses,
    errors: out.errors,
  };
}
