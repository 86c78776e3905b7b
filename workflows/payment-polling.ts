/** Lost webhooks are caught by polling at a growing interval, capped so the gap is never over 2 minutes. */
export const POLL_INTERVALS_MS = [5_000, 10_000, 20_000, 40_000, 60_000, 90_000, 120_000];

/** The wait before the i-th poll (0-based): the purchase and the bench's no-op shape poll alike. */
export const pollGap = (i: number) => POLL_INTERVALS_MS[Math.min(i, POLL_INTERVALS_MS.length - 1)];
