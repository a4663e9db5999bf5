/**
 * The one clock handlers use for wall-clock readings that feed domain decisions or reports
 * (cycle durations, time to halt, audit timestamps when no trigger time is given).
 *
 * In AWS it is `Date.now()`. The local runtime replaces `clock.now` with its simulated clock
 * (schedule slots, timeouts and backoffs run scaled), so durations and timestamps a handler
 * computes agree with the simulated schedule. Domain "now" for a cycle (breaker open-until,
 * trading hours) comes from the execution start time in the payload, not from here.
 */
export const clock = {
  /** Epoch milliseconds. */
  now: (): number => Date.now(),
};
