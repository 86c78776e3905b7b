import type { Params } from './state';

export interface RecordedCall {
  method: string;
  params: Params;
  /** ms since epoch when the call arrived. */
  at: number;
  /** Bytes of an uploaded photo (multipart sendPhoto). */
  photo?: Buffer;
  /** Set when the call was answered with an error. */
  error?: { error_code: number; description: string };
}

/** Every Bot API call in completion order, with waiting for one to happen. */
export class CallRecorder {
  readonly all: RecordedCall[] = [];
  private readonly watchers = new Set<() => void>();

  add(call: RecordedCall): void {
    this.all.push(call);
    for (const watcher of [...this.watchers]) watcher();
  }

  /** Resolves with the first call (past or future) matching; the index helps skip older calls. */
  waitFor(
    predicate: (call: RecordedCall, index: number) => boolean,
    timeoutMs = 5000,
  ): Promise<RecordedCall> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.all.find((c, i) => predicate(c, i));
        if (!found) return false;
        done();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        const tail = this.all.slice(-8).map((c) => `${c.method}${c.error ? `(${c.error.error_code})` : ''}`);
        reject(new Error(`waitFor timed out after ${timeoutMs}ms; last calls: ${tail.join(', ') || 'none'}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      if (!check()) this.watchers.add(check);
    });
  }
}
