import http from 'node:http';
import { createMetrics } from '../infra/metrics';

/**
 * The worker's /metrics: what only the worker sees (send errors, alerts, key-delivery latency).
 * Temporal's own runtime metrics are served by the SDK runtime on the next port.
 */
export async function startWorkerMetrics(port: number) {
  const metrics = createMetrics();
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') return res.writeHead(404).end();
    res.setHeader('content-type', metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return {
    hooks: {
      alert: (kind: string) => metrics.opsAlerts.inc({ kind }),
      keyDelivered: (seconds: number) => metrics.paymentToKey.observe(seconds),
      telegramError: (code: string) => metrics.telegramSendErrors.inc({ code }),
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
