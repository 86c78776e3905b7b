/** How the orchestrator manages the VPN users of one node, whatever the transport (HTTP agent or SSH). */
export interface NodeDriver {
  /** Idempotent: adding an existing email with the same uuid is a no-op; a new uuid replaces the old. */
  addClient(c: { email: string; uuid: string; flow?: string }): Promise<void>;
  /** Idempotent: removing an unknown email succeeds. */
  removeClient(email: string): Promise<void>;
  listClients(): Promise<{ email: string; uuid: string }[]>;
  /** Bytes per user since the last reset; reset=true zeroes the node's totals after reading them. */
  stats(reset?: boolean): Promise<{ email: string; uplink: number; downlink: number }[]>;
  /**
   * The node's monotonic per-user totals and the epoch they belong to (a new epoch = totals restarted
   * from zero: reset, or a wiped agent store). Optional for drivers of older agents.
   */
  counters?(): Promise<NodeCounters>;
  /** Does not throw when only Xray is down (ok=false); throws when the node itself is unreachable. */
  health(): Promise<{ ok: boolean; xrayVersion?: string; users: number }>;
  close(): Promise<void>;
}

export interface NodeCounters {
  /** Empty when the agent does not send one (older agent): its totals are then taken as one epoch. */
  epoch: string;
  stats: { email: string; uplink: number; downlink: number }[];
}

/** Base class; `retryable` tells activities whether retrying can help. */
export abstract class NodeDriverError extends Error {
  abstract readonly retryable: boolean;
  /** Short classified cause for vpn_nodes.last_error, never remote output: "timeout", "HTTP 503"… */
  readonly reason: string;
  constructor(
    message: string,
    readonly nodeId?: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, options);
    this.reason = options?.reason ?? message;
  }
}

/** Network failure, timeout, 5xx, Xray restarting: try again later. */
export class NodeUnreachableError extends NodeDriverError {
  override name = 'NodeUnreachableError';
  readonly retryable = true;
}

/** The node said no (bad token, bad input, misconfiguration): retrying the same call will not help. */
export class NodeRejectedError extends NodeDriverError {
  override name = 'NodeRejectedError';
  readonly retryable = false;
  constructor(
    message: string,
    nodeId?: string,
    readonly status?: number,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, nodeId, options);
  }
}

/** The SSH server's host key is not the pinned one: possible MITM, needs an operator. */
export class HostKeyMismatchError extends NodeRejectedError {
  override name = 'HostKeyMismatchError';
  constructor(
    nodeId: string | undefined,
    readonly presentedFingerprint: string,
  ) {
    super(
      `ssh host key mismatch for node ${nodeId ?? '?'}: server presented ${presentedFingerprint}, ` +
        'which matches no pinned host_key; refusing to connect',
      nodeId,
      undefined,
      { reason: 'ssh host key mismatch' },
    );
  }
}
