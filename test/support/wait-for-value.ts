/**
 * Polls `probe` until it returns something other than undefined (errors propagate at once), or fails after
 * `ms` naming what it waited for. Unlike processes.ts `waitFor`, a falsy value such as 0 or false counts.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
