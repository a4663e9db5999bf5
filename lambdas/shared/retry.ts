/**
 * One retry helper for conditional writers that lose races: exponential backoff with full jitter
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"), bounded attempts.
 */

/** Options of {@link retryWithBackoff}. */
export interface RetryOptions {
  /** Attempts in all (the first one included). Must be >= 1. */
  readonly attempts: number;
  /** Cap of the first backoff, ms; doubles per attempt. Default 5. */
  readonly baseDelayMs?: number;
  /** Largest backoff cap, ms. Default 200. */
  readonly maxDelayMs?: number;
  /** Waits `ms`. Default `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Random fraction in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** Result of one attempt: `{ done: true, value }` ends the loop, `{ done: false }` retries after a backoff. */
export type AttemptResult<T> = { done: true; value: T } | { done: false };

/**
 * Runs `attempt(n)` (n = 1, 2, ...) until it returns `{ done: true }`, sleeping a jittered,
 * doubling delay between attempts.
 * @returns the value and the attempt number that produced it, or `undefined` after `attempts` losses.
 * @throws whatever `attempt` throws (not retried).
 */
export async function retryWithBackoff<T>(
  opts: RetryOptions,
  attempt: (n: number) => Promise<AttemptResult<T>>,
): Promise<{ value: T; attempts: number } | undefined> {
  const base = opts.baseDelayMs ?? 5;
  const max = opts.maxDelayMs ?? 200;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  for (let n = 1; n <= opts.attempts; n++) {
    const r = await attempt(n);
    if (r.done) return { value: r.value, attempts: n };
    if (n < opts.attempts) await sleep(random() * Math.min(max, base * 2 ** (n - 1)));
  }
  return undefined;
}
