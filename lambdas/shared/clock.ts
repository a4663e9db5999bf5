/**
 * The clock port: how handlers read the time and wait.
 *
 * Handlers take a {@link Clock} from their ports (`create...Handler({ ..., clock })`); in AWS it is
 * {@link systemClock} (`Date.now()` and `setTimeout`), the local runtime passes its simulated clock
 * (`local/sim-clock.ts`), tests pass a fixed or stepped one. Nothing replaces these functions at
 * run time. Domain "now" for a cycle (breaker open-until, trading hours) comes from the execution
 * start time in the payload, not from a clock.
 */

/** Reads the time and waits. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` milliseconds (on this clock's time). */
  sleep(ms: number): Promise<void>;
}

/** The real clock: `Date.now()` and `setTimeout`. Frozen: a test or runtime passes its own clock instead of patching this one. */
export const systemClock: Clock = Object.freeze({
  now: (): number => Date.now(),
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
});
