import { intParam } from './params';
import { ApiFailure, type Params, type UpdateQueue } from './state';

type PollEnd = 'update' | 'timeout' | 'replaced';

const WEBHOOK_CONFLICT =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const POLL_CONFLICT =
  'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';

/** getUpdates as Telegram serves it: offset confirms, timeout long-polls, a newer poll ends the older one. */
export class LongPoller {
  private endPoll: ((how: PollEnd) => void) | null = null;

  constructor(
    private readonly updates: UpdateQueue,
    private readonly webhookActive: () => boolean,
  ) {}

  /** True while a long poll is waiting, i.e. a polling bot is connected. */
  get polling(): boolean {
    return this.endPoll !== null;
  }

  /** Ends a waiting long poll early (it answers [] or, with a webhook now set, 409). */
  release(): void {
    this.endPoll?.('timeout');
  }

  async getUpdates(p: Params, signal: AbortSignal): Promise<unknown[]> {
    if (this.webhookActive()) throw new ApiFailure(409, WEBHOOK_CONFLICT);
    // Two bot instances polling show up as 409s on the older one, as on Telegram.
    this.endPoll?.('replaced');
    this.updates.confirm(intParam(p, 'offset', false) ?? 0);
    const limit = intParam(p, 'limit', false) ?? 100;
    const timeoutSec = Math.min(intParam(p, 'timeout', false) ?? 0, 50);
    if (this.updates.size > 0 || timeoutSec <= 0) return this.updates.peek(limit);
    const outcome = await new Promise<PollEnd>((resolve) => {
      const timer = setTimeout(() => finish('timeout'), timeoutSec * 1000);
      const unsubscribe = this.updates.subscribe(() => finish('update'));
      const onAbort = () => finish('timeout');
      signal.addEventListener('abort', onAbort);
      const finish = (how: PollEnd) => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        if (this.endPoll === finish) this.endPoll = null;
        resolve(how);
      };
      this.endPoll = finish;
    });
    if (outcome === 'replaced') throw new ApiFailure(409, POLL_CONFLICT);
    if (this.webhookActive()) throw new ApiFailure(409, WEBHOOK_CONFLICT);
    return this.updates.peek(limit);
  }
}
