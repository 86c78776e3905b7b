import type { Logger } from 'pino';
import { createLogger } from '../logger';
import type { AgentService } from './service';

export interface ReconcilerOptions {
  intervalMs: number;
  logger?: Logger;
}

/**
 * Health loop. Runtime-added Xray users live only in memory, so whenever Xray is reachable again (it
 * restarted) or its user list drifted from the store, every stored client is re-applied — without any
 * call from the orchestrator. Each tick also harvests traffic counters so an Xray restart loses little.
 */
export class Reconciler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private xrayWasDown = true; // first tick always re-applies: Xray may have restarted while we were down
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly service: AgentService,
    private readonly options: ReconcilerOptions,
  ) {
    this.log = options.logger ?? createLogger('agent-reconciler');
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; exposed for tests and for the agent's startup. Never throws. */
  async tick(): Promise<void> {
    try {
      const force = this.xrayWasDown;
      const { added, removed } = await this.service.reconcile(force);
      if (force) this.log.info({ added, removed }, 'xray reachable: client list re-applied');
      else if (added || removed) this.log.warn({ added, removed }, 'xray user list drifted: repaired');
      this.xrayWasDown = false;
      await this.service.harvest();
    } catch (e) {
      if (!this.xrayWasDown) this.log.warn({ err: (e as Error).message }, 'xray unreachable');
      this.xrayWasDown = true;
    }
  }

  get xrayReachable(): boolean {
    return !this.xrayWasDown;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule(this.options.intervalMs));
    }, delay);
    this.timer.unref?.();
  }
}
