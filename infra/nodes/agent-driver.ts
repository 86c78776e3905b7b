import { type NodeDriver, NodeRejectedError, NodeUnreachableError } from './driver';

export interface AgentDriverOptions {
  nodeId?: string;
  /** Base URL of the node agent, e.g. https://node1.example.com:8444 */
  url: string;
  token: string;
  timeoutMs?: number;
}

interface AgentHealthBody {
  xray_reachable?: boolean;
  xray_version?: string | null;
  users?: number;
}

/** NodeDriver over the agent's HTTP API (contract: "Node agent HTTP API"). */
export class AgentDriver implements NodeDriver {
  private readonly base: string;

  constructor(private readonly o: AgentDriverOptions) {
    this.base = o.url.replace(/\/+$/, '');
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    okStatuses: number[] = [],
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.o.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
    } catch (e) {
      const reason = (e as Error).name === 'TimeoutError' ? 'timed out' : describe(e);
      throw new NodeUnreachableError(`agent ${method} ${path}: ${reason}`, this.o.nodeId, { cause: e });
    }
    const text = await res.text().catch(() => '');
    if (res.ok || okStatuses.includes(res.status)) {
      try {
        return (text ? JSON.parse(text) : {}) as T;
      } catch {
        // Something answered that is not the agent (wrong URL, a proxy's HTML page).
        throw new NodeRejectedError(`agent ${method} ${path}: non-JSON answer`, this.o.nodeId, res.status);
      }
    }
    const detail = `agent ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`;
    // 408/429 and 5xx (incl. 503 "xray_unavailable") may succeed later; other 4xx will not.
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      throw new NodeUnreachableError(detail, this.o.nodeId);
    }
    throw new NodeRejectedError(detail, this.o.nodeId, res.status);
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

  async health(): Promise<{ ok: boolean; xrayVersion?: string; users: number }> {
    // 503 = agent up, Xray down: an answer, not an error.
    const r = await this.request<AgentHealthBody>('GET', '/health', undefined, [503]);
    return { ok: r.xray_reachable === true, xrayVersion: r.xray_version ?? undefined, users: r.users ?? 0 };
  }

  async close(): Promise<void> {}
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}
