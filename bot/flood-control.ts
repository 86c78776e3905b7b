/**
 * Per-user flood control: more than `limit` updates within one second from one user starts a cooldown.
 * The update that trips it is answered once ("slow down"); every other update in the cooldown is dropped
 * without a word (answering each would itself be a flood, towards Telegram's rate limits).
 * Payment updates are never counted or dropped: see `isMoneyUpdate`.
 */

export type FloodVerdict = 'pass' | 'warn' | 'drop';

export interface FloodOptions {
  /** Updates per second one user may send; 0 switches flood control off. */
  limit: number;
  cooldownMs: number;
  now?: () => number;
}

interface UserState {
  /** Arrival times of the latest updates, at most `limit` of them, oldest first. */
  recent: number[];
  cooldownUntil: number;
}

const WINDOW_MS = 1000;
// Users seen in a quiet moment are forgotten, so the map stays as big as the set of active users.
const SWEEP_EVERY = 1000;

export class FloodControl {
  private readonly users = new Map<number, UserState>();
  private readonly now: () => number;
  private checks = 0;

  constructor(private readonly options: FloodOptions) {
    this.now = options.now ?? Date.now;
  }

  check(userId: number): FloodVerdict {
    const { limit, cooldownMs } = this.options;
    if (limit <= 0) return 'pass';
    const now = this.now();
    if (++this.checks % SWEEP_EVERY === 0) this.sweep(now);
    let state = this.users.get(userId);
    if (!state) {
      state = { recent: [], cooldownUntil: 0 };
      this.users.set(userId, state);
    }
    if (now < state.cooldownUntil) return 'drop';
    const windowStart = now - WINDOW_MS;
    while (state.recent.length > 0 && state.recent[0] <= windowStart) state.recent.shift();
    if (state.recent.length >= limit) {
      state.cooldownUntil = now + cooldownMs;
      state.recent = [];
      return 'warn';
    }
    state.recent.push(now);
    return 'pass';
  }

  /** Users currently tracked (for tests). */
  get tracked(): number {
    return this.users.size;
  }

  private sweep(now: number): void {
    for (const [id, s] of this.users) {
      if (now >= s.cooldownUntil && (s.recent.at(-1) ?? 0) <= now - WINDOW_MS) this.users.delete(id);
    }
  }
}

/**
 * Money updates bypass flood control: Telegram cancels a payment whose pre_checkout_query is not answered,
 * and a successful_payment means Stars are already charged and must reach the API.
 */
export function isMoneyUpdate(update: object): boolean {
  if ('pre_checkout_query' in update) return true;
  const message = 'message' in update ? update.message : undefined;
  return typeof message === 'object' && message !== null && 'successful_payment' in message;
}
