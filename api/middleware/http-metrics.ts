import type { RequestHandler } from 'express';
import type { Metrics } from '../../infra/metrics';

/** Latency by route pattern (never the raw URL: tokens and ids would explode the label set). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route?.path ? String(req.route.path) : 'unmatched';
      stop({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
