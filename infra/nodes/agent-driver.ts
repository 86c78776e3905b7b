import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { agentUrlProblem, normalizeCertFingerprint } from './agent-url';
import { type NodeCounters, type NodeDriver, NodeRejectedError, NodeUnreachableError } from './driver';

export interface AgentDriverOptions {
  nodeId?: string;
  /** Base URL of the node agent, e.g. https://node1.example.com:8444 */
  url: string;
  token: string;
  /**
   * SHA-256 fingerprint of the agent's (self-signed) certificate, as the installer prints it. When set,
   * the certificate must match it and nothing else is checked; when unset, https uses the system CAs.
   */
  certSha256?: string | null;
  timeoutMs?: number;
}

interface AgentHealthBody {
  xray_reachable?: boolean;
  xray_version?: string | null;
  users?: number;
}

/** The agent's answers are small JSON; anything bigger is not the agent. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

class PinMismatch extends Error {}

/**
 * https agent that verifies the pinned fingerprint inside createConnection, before the socket is handed
 * to the request: not one byte (so not the bearer token) goes to a server that shows another certificate.
 */
class PinnedHttpsAgent extends https.Agent {
  constructor(private readonly pin: string) {
    super({ keepAlive: true, maxCachedSessions: 0 });
  }

  override createConnection(
    requestOptions: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    const options = requestOptions as tls.ConnectionOptions;
    const done = callback as (err: Error | null, stream?: Duplex) => void;
    const host = options.host ?? '';
    const socket = tls.connect({
      ...options,
      // A self-signed cert fails CA checks by design; the pin below replaces them.
      rejectUnauthorized: false,
      servername: isIP(host) ? undefined : (options.servername ?? host),
    });
    const onError = (e: Error) => done(e);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      const presented = socket.getPeerCertificate()?.fingerprint256;
      if (presented !== this.pin) {
        socket.destroy();
        return done(new PinMismatch(`presented ${presented ?? 'no certificate'}`));
      }
      done(null, socket);
    });
    return undefined;
  }
}

/** NodeDriver over the agent's HTTP API (contract: "Node agent HTTP API"). */
export class AgentDriver implements NodeDriver {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly inflight = new Set<http.ClientRequest>();

  constructor(private readonly o: AgentDriverOptions) {
    const problem = agentUrlProblem(o.url);
    if (problem) {
      throw new NodeRejectedError(`agent_url ${problem}`, o.nodeId, undefined, {
        reason: `agent_url ${problem}`,
      });
    }
    this.base = new URL(o.url.replace(/\/+$/, ''));
    const pin = o.certSha256 ? normalizeCertFingerprint(o.certSha256) : null;
    if (o.certSha256 && !pin)
      throw new NodeRejectedError('agent_cert_sha256 is not a SHA-256 fingerprint', o.nodeId);
    if (pin && this.base.protocol !== 'https:')
      throw new NodeRejectedError('agent_cert_sha256 needs an https agent_url', o.nodeId);
    this.agent = pin
      ? new PinnedHttpsAgent(pin)
      : this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true })
        : new http.Agent({ keepAlive: true });
  }

  /**
   * One request with a hard deadline. Errors carry a short classified reason (status code, "timeout",
   * "tls pin mismatch", an errno code), never the remote body: agent_url is operator input and must
   * not become a way to read other hosts' answers.
   */
  private request<T>(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<T> {
    const what = `agent ${method} ${path}`;
    const unreachable = (reason: string, cause?: unknown) =>
      new NodeUnreachableError(`${what}: ${reason}`, this.o.nodeId, { cause, reason });
    const rejected = (reason: string, status?: number) =>
      new NodeRejectedError(`${what}: ${reason}`, this.o.nodeId, status, { reason });
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}${path}`, this.base);
    const lib = url.protocol === 'https:' ? https : http;

    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | null, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(req);
        if (err) reject(err);
        else resolve(value as T);
      };
      const req = lib.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.o.token}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES) {
              res.destroy();
              finish(rejected(`answer over ${MAX_BODY_BYTES} bytes (HTTP ${status})`, status));
            } else chunks.push(c);
          });
          res.on('error', (e) => finish(unreachable(classify(e), e)));
          res.on('end', () => {
            const ok = (status >= 200 && status < 300) || okStatuses.includes(status);
            // 408/429 and 5xx (incl. 503 "xray_unavailable") may succeed later; other codes will not.
            if (!ok && (status >= 500 || status === 408 || status === 429))
              return finish(unreachable(`HTTP ${status}`));
            if (!ok) return finish(rejected(`HTTP ${status}`, status));
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              finish(null, (text ? JSON.parse(text) : {}) as T);
            } catch {
              // Something answered that is not the agent (wrong URL, a proxy's HTML page).
              finish(rejected(`non-JSON answer (HTTP ${status})`, status));
            }
          });
        },
      );
      this.inflight.add(req);
      const timer = setTimeout(() => {
        finish(unreachable('timeout'));
        req.destroy();
      }, this.o.timeoutMs ?? 10_000);
      req.on('error', (e) => {
        if (e instanceof PinMismatch) finish(rejected('tls pin mismatch'));
        else finish(unreachable(classify(e), e));
      });
      req.end(payload);
    });
  }

  async addClient(c: { email: string; uuid: string; flow?: string }): Promise<void> {
    const body = c.flow === undefined ? { uuid: c.uuid } : { uuid: c.uuid, flow: c.flow };
    await this.request('PUT', `/clients/${encodeURIComponent(c.email)}`, body);
  }

  async removeClient(email: string): Promise<void> {
    await this.request('DELETE', `/clients/${encodeURIComponent(email)}`);
  }

  async listClients(): Promise<{ email: string; uuid: string }[]> {
    const r = await this.request<{ clients: { email: string; uuid: string }[] }>('GET', '/clients');
    return r.clients.map(({ email, uuid }) => ({ email, uuid }));
  }

  async stats(reset = false): Promise<{ email: string; uplink: number; downlink: number }[]> {
    const r = await this.request<{ stats: { email: string; uplink: number; downlink: number }[] }>(
      'GET',
      `/stats?reset=${reset}`,
    );
    return r.stats;
  }

  async counters(): Promise<NodeCounters> {
    const r = await this.request<{ epoch?: string; stats: NodeCounters['stats'] }>(
      'GET',
      '/stats?reset=false',
    );
    return { epoch: r.epoch ?? '', stats: r.stats };
  }

  async health(): Promise<{ ok: boolean; xrayVersion?: string; users: number }> {
    // 503 = agent up, Xray down: an answer, not an error.
    const r = await this.request<AgentHealthBody>('GET', '/health', undefined, [503]);
    return { ok: r.xray_reachable === true, xrayVersion: r.xray_version ?? undefined, users: r.users ?? 0 };
  }

  /** Aborts what is in flight (a node that stopped answering) and drops kept-alive sockets. */
  async close(): Promise<void> {
    for (const req of this.inflight) req.destroy(new Error('driver closed'));
    this.agent.destroy();
  }
}

/** An errno or TLS code ("ECONNREFUSED", "CERT_HAS_EXPIRED"); our own words otherwise. */
function classify(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) {
    return code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO/.test(code) ? `tls error ${code}` : code;
  }
  return 'connection failed';
}
