import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { withFileLock } from './file-lock';

export interface StoredClient {
  uuid: string;
  flow: string;
}

export interface Traffic {
  uplink: number;
  downlink: number;
}

/** Everything the agent must not forget: who may connect, and the bytes not yet collected. */
export interface AgentState {
  version: 1;
  clients: Record<string, StoredClient>;
  /** Per-email totals harvested from Xray (whose counters reset on every Xray restart). */
  traffic: Record<string, Traffic>;
  /**
   * Names one run of the traffic totals: a new store (wiped, rebuilt node) or a reset starts a new epoch,
   * so the orchestrator knows the totals restarted from zero (its cursor is per node, email and epoch).
   */
  epoch?: string;
}

const emptyState = (): AgentState => ({ version: 1, clients: {}, traffic: {} });

/** A fresh traffic epoch id. */
export const newEpoch = (): string => randomBytes(8).toString('hex');

/**
 * Durable client list + traffic totals in AGENT_DATA_DIR/state.json. Writes go to a temp file that is
 * fsynced and renamed over the old one, so a crash leaves either the old or the new state, never half.
 */
export class AgentStore {
  readonly file: string;
  private readonly lockFile: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {
    this.file = path.join(dir, 'state.json');
    this.lockFile = path.join(dir, 'state.lock');
  }

  async read(): Promise<AgentState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw e;
    }
    const parsed = JSON.parse(text) as Partial<AgentState>;
    return {
      version: 1,
      clients: parsed.clients ?? {},
      traffic: parsed.traffic ?? {},
      ...(parsed.epoch ? { epoch: parsed.epoch } : {}),
    };
  }

  /**
   * Serialized read-modify-write: in-process queue plus a lock file shared with the CLI. `fn` may mutate
   * the state (and talk to Xray meanwhile); it is written back only if `fn` returns without throwing,
   * unless `fn` asks to save anyway through `ctx.saveEvenOnError` (used after a partial Xray failure).
   */
  update<T>(fn: (state: AgentState, ctx: UpdateContext) => Promise<T> | T): Promise<T> {
    const run = async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      return withFileLock(this.lockFile, async () => {
        const state = await this.read();
        const before = JSON.stringify(state);
        const ctx: UpdateContext = { saveEvenOnError: false };
        let result: T;
        try {
          result = await fn(state, ctx);
        } catch (e) {
          if (ctx.saveEvenOnError && JSON.stringify(state) !== before) await this.write(state);
          throw e;
        }
        if (JSON.stringify(state) !== before) await this.write(state);
        return result;
      });
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(state: AgentState): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(state, null, 1)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    // fsync the directory so the rename itself survives a power cut.
    const dirHandle = await open(this.dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

export interface UpdateContext {
  saveEvenOnError: boolean;
}
