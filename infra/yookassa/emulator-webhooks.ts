/**
 * Notification delivery as YooKassa does it: POST the event to the shop's URL and redeliver, with
 * growing pauses, until the shop answers exactly 200 or the attempts run out.
 */
import http, { type ClientRequest } from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Notification, NotificationEvent, Payment, Refund } from './types';

export interface WebhookRetryPolicy {
  maxAttempts: number;
  /** Pause before the 2nd attempt; doubled each time up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** How long one attempt may take before it counts as failed. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = {
  maxAttempts: 10,
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  timeoutMs: 10_000,
};

export interface WebhookDelivery {
  /** Same for every attempt of one notification. */
  notificationId: string;
  event: NotificationEvent;
  objectId: string;
  url?: string;
  attempt: number;
  at: string;
  outcome: 'delivered' | 'failed' | 'dropped';
  status?: number;
  error?: string;
}

export interface WebhookSenderOptions {
  getUrl: () => string | undefined;
  shouldDrop: () => boolean;
  policy: WebhookRetryPolicy;
  log: Logger;
}

export function createWebhookSender(options: WebhookSenderOptions) {
  const { policy, log } = options;
  const history: WebhookDelivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<ClientRequest>();
  let closed = false;

  async function attempt(notificationId: string, notification: Notification, n: number): Promise<void> {
    const url = options.getUrl();
    if (closed || !url) return; // no URL in the shop profile: YooKassa sends nothing
    const base = {
      notificationId,
      event: notification.event,
      objectId: notification.object.id,
      url,
      attempt: n,
    };
    if (options.shouldDrop()) {
      history.push({ ...base, at: new Date().toISOString(), outcome: 'dropped' });
      return;
    }
    const result = await post(url, JSON.stringify(notification), policy.timeoutMs, inflight);
    if (closed) return;
    const delivered = result.status === 200;
    history.push({
      ...base,
      at: new Date().toISOString(),
      outcome: delivered ? 'delivered' : 'failed',
      ...result,
    });
    if (delivered) return;
    if (n >= policy.maxAttempts) {
      log.warn({ ...base, ...result }, 'webhook not accepted, giving up');
      return;
    }
    const delay = Math.min(policy.initialDelayMs * 2 ** (n - 1), policy.maxDelayMs);
    const timer = setTimeout(() => {
      timers.delete(timer);
      void attempt(notificationId, notification, n + 1);
    }, delay);
    timers.add(timer);
  }

  return {
    notify(event: NotificationEvent, object: Payment | Refund): void {
      void attempt(randomUUID(), { type: 'notification', event, object }, 1);
    },
    deliveries: (): WebhookDelivery[] => history.map((d) => ({ ...d })),
    close(): void {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const req of inflight) req.destroy();
    },
  };
}

function post(
  url: string,
  body: string,
  timeoutMs: number,
  inflight: Set<ClientRequest>,
): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ error: `invalid webhook URL ${url}` });
      return;
    }
    const transport = target.protocol === 'https:' ? https : http;
    // YooKassa's source address is what the shop's allowlist checks; locally it is 127.0.0.1.
    const fromLoopback = isIpv4Loopback(target.hostname) ? { localAddress: '127.0.0.1', family: 4 } : {};
    const req = transport.request(
      target,
      {
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        ...fromLoopback,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        res.on('error', (err) => resolve({ status: res.statusCode, error: err.message }));
      },
    );
    inflight.add(req);
    req.on('close', () => inflight.delete(req));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end(body);
  });
}

function isIpv4Loopback(hostname: string): boolean {
  return hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
