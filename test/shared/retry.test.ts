/**
 * retryWithBackoff (lambdas/shared/retry.ts): attempts until done, full-jitter exponential backoff
 * between attempts (AWS Architecture Blog, "Exponential Backoff And Jitter"), capped, never after
 * the last attempt; a throw is not retried. Sleep and random are injected: no real waits.
 */
import { retryWithBackoff, type AttemptResult } from '../../lambdas/shared/retry';

const losses =
  (wins: number) =>
  async (n: number): Promise<AttemptResult<string>> =>
    n >= wins ? { done: true, value: `won at ${n}` } : { done: false };

describe('retryWithBackoff', () => {
  it('returns the value and the attempt that produced it, sleeping jitter x a doubling cap between losses', async () => {
    const slept: number[] = [];
    const r = await retryWithBackoff(
      { attempts: 5, baseDelayMs: 10, maxDelayMs: 1000, sleep: async (ms) => void slept.push(ms), random: () => 0.5 },
      losses(4),
    );
    expect(r).toEqual({ value: 'won at 4', attempts: 4 });
    expect(slept).toEqual([5, 10, 20]);
  });

  it('caps the backoff at maxDelayMs, and gives up (undefined) after the last attempt without sleeping after it', async () => {
    const slept: number[] = [];
    const r = await retryWithBackoff(
      { attempts: 6, baseDelayMs: 10, maxDelayMs: 30, sleep: async (ms) => void slept.push(ms), random: () => 0.999 },
      losses(99),
    );
    expect(r).toBeUndefined();
    expect(slept.map(Math.round)).toEqual([10, 20, 30, 30, 30]);
  });

  it('a first-attempt win never sleeps; a throw is not retried', async () => {
    const sleep = jest.fn(async () => undefined);
    expect(await retryWithBackoff({ attempts: 3, sleep }, losses(1))).toEqual({ value: 'won at 1', attempts: 1 });
    let calls = 0;
    await expect(
      retryWithBackoff({ attempts: 3, sleep }, async () => {
        calls++;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
    expect(sleep).not.toHaveBeenCalled();
  });

  it('defaults: first cap 5 ms, doubling, at most 200 ms', async () => {
    const slept: number[] = [];
    await retryWithBackoff({ attempts: 8, sleep: async (ms) => void slept.push(ms), random: () => 1 - Number.EPSILON }, losses(99));
    expect(slept.map(Math.round)).toEqual([5, 10, 20, 40, 80, 160, 200]);
  });
});
