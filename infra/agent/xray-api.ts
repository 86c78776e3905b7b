import { setTimeout as sleep } from 'node:timers/promises';
import { XtlsApi } from '@remnawave/xtls-sdk';

/** Flows the agent accepts (the SDK's type);  = plain VLESS without Vision. */
type VlessFlow = '' | 'xtls-rprx-vision';

export interface XrayUser {
  email: string;
  uuid: string;
  flow: string;
}

export interface XrayUserTraffic {
  email: string;
  uplink: number;
  downlink: number;
}

/** Xray did not answer (down, restarting) — retryable — or refused the request (`unavailable` false). */
export class XrayError extends Error {
  override name = 'XrayError';
  constructor(
    message: string,
    readonly unavailable: boolean,
  ) {
    super(message);
  }
}

interface SdkResult<T> {
  isOk: boolean;
  data?: T;
  message?: string;
}

const UNAVAILABLE_RE = /UNAVAILABLE|ECONNREFUSED|ECONNRESET|DEADLINE|timed out|No connection established/i;

/**
 * Thin wrapper on @remnawave/xtls-sdk (HandlerService + StatsService over gRPC). The SDK never throws;
 * this turns its `{isOk, message}` results into XrayError and bounds every call with a timeout.
 */
export class XrayApi {
  private readonly api: XtlsApi;

  constructor(
    readonly address: string,
    private readonly timeoutMs = 5_000,
    private readonly retryUnavailableMs = 1_500,
  ) {
    const i = address.lastIndexOf(':');
    if (i <= 0) throw new Error(`XRAY_API must be host:port, got ${address}`);
    // Short reconnect backoff: after an Xray restart we want to notice within one reconcile tick,
    // not after grpc-js's default exponential backoff (up to 2 minutes).
    this.api = new XtlsApi(address.slice(0, i), address.slice(i + 1), {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
  }

  /**
   * Right after Xray (re)starts, grpc-js may still be in reconnect backoff and fail fast with
   * UNAVAILABLE; retrying for a moment turns that into success instead of a spurious 503.
   */
  private async call<T>(what: string, op: () => Promise<SdkResult<T>>): Promise<T> {
    const deadline = Date.now() + this.retryUnavailableMs;
    for (;;) {
      try {
        return await this.callOnce(what, op);
      } catch (e) {
        if (!(e instanceof XrayError && e.unavailable) || Date.now() + 250 > deadline) throw e;
        await sleep(250);
      }
    }
  }

  private async callOnce<T>(what: string, op: () => Promise<SdkResult<T>>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new XrayError(`${what}: timed out`, true)), this.timeoutMs);
    });
    try {
      const result = await Promise.race([op(), timeout]);
      if (!result.isOk) {
        const message = result.message ?? 'unknown error';
        throw new XrayError(`${what}: ${message}`, UNAVAILABLE_RE.test(message));
      }
      return result.data as T;
    } catch (e) {
      if (e instanceof XrayError) throw e;
      throw new XrayError(`${what}: ${(e as Error).message}`, true);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Idempotent: the SDK already maps "already exists" to success. */
  async addUser(tag: string, user: XrayUser): Promise<void> {
    await this.call('add user', () =>
      this.api.handler.addVlessUser({
        tag,
        username: user.email,
        uuid: user.uuid,
        flow: user.flow as VlessFlow,
        level: 0,
      }),
    );
  }

  /** Idempotent: the SDK already maps "not found" to success. */
  async removeUser(tag: string, email: string): Promise<void> {
    await this.call('remove user', () => this.api.handler.removeUser(tag, email));
  }

  async listUsers(tag: string): Promise<XrayUser[]> {
    const data = await this.call('list users', () => this.api.handler.getInboundUsers(tag));
    return data.users.map((u) => ({ email: u.username, uuid: u.vless?.id ?? '', flow: u.vless?.flow ?? '' }));
  }

  /** Per-user byte counters; with reset, Xray zeroes them in the same call (nothing counted twice). */
  async userTraffic(reset: boolean): Promise<XrayUserTraffic[]> {
    const data = await this.call('query stats', () => this.api.stats.getAllUsersStats(reset));
    return data.users
      .filter((u) => u.username)
      .map((u) => ({ email: u.username, uplink: Number(u.uplink), downlink: Number(u.downlink) }));
  }

  /** Cheap liveness probe; returns Xray's uptime in seconds. */
  async ping(): Promise<number> {
    const data = await this.call('sys stats', () => this.api.stats.getSysStats());
    return Number(data.uptime);
  }

  close(): void {
    this.api.channel.close();
  }
}
