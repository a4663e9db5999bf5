/**
 * The circuit breaker of one agent, as a pure state machine (resilience4j / Polly / opossum
 * semantics, sized for one call per cycle):
 *
 * - CLOSED -> OPEN after `failureThreshold` consecutive failures (default 5), or when the failure
 *   rate over the last `windowSize` runs is >= `failureRateThreshold` with at least `minimumRuns`
 *   runs in the window;
 * - OPEN waits `min(openSeconds * backoffMultiplier^(tripCount-1), maxOpenSeconds)` seconds
 *   (`tripCount` counts consecutive trips; a successful probe resets it to 0);
 * - OPEN -> HALF_OPEN only through a probe claim made by "Plan cycle" once `now >= openUntil`
 *   (a conditional write in `agent-state-store.ts`, so two overlapping cycles never both probe);
 * - HALF_OPEN + the probe's success -> CLOSED (consecutive failures, window and tripCount reset);
 * - HALF_OPEN + the probe's failure -> OPEN (tripCount + 1, a new, longer wait).
 *
 * OPEN never goes straight to CLOSED. A skip never changes the breaker state; a probe that was
 * claimed but skipped (e.g. the agent found nothing to do) releases its claim so the next cycle
 * may probe. Outcomes of cycles that are not the probe holder (overlapping cycles planned while the
 * breaker was still CLOSED) update the counters but never move an OPEN or HALF_OPEN breaker.
 *
 * Pure functions only; time is passed in (epoch ms).
 */
import type { AgentStateItem, BreakerState } from '../contracts';

/** Breaker settings (config `breaker`, see `lib/config/schema.ts` for the defaults quoted here). */
export interface BreakerSettings {
  /** Consecutive failures that open the breaker (config `breaker.failureThreshold`, default 5: R-BREAKER). */
  readonly failureThreshold: number;
  /** Runs in the failure-rate window (M). Default 10. */
  readonly windowSize: number;
  /** Failure rate (fraction 0..1) over the window that opens the breaker. Default 0.5. */
  readonly failureRateThreshold: number;
  /** Runs needed in the window before the failure-rate rule applies. Default 10. */
  readonly minimumRuns: number;
  /** OPEN wait after the first trip, seconds (config `breaker.openSeconds`: default two cadences, and it must exceed one). */
  readonly openSeconds: number;
  /** Growth of the OPEN wait per consecutive trip (>= 1). Default 2. */
  readonly backoffMultiplier: number;
  /** Cap of the OPEN wait, seconds (config `breaker.maxOpenSeconds`: default the larger of 14,400 (4 h) and 8 x openSeconds). */
  readonly maxOpenSeconds: number;
}

/** The fields of an agent state item the breaker reads and writes. */
export type BreakerFields = Pick<
  AgentStateItem,
  'breaker' | 'openedAt' | 'openUntil' | 'tripCount' | 'probeCycleId' | 'probeClaimedAt' | 'consecutiveFailures' | 'window'
>;

/**
 * OPEN wait for the `tripCount`-th consecutive trip, seconds:
 * `min(openSeconds * backoffMultiplier^(tripCount-1), maxOpenSeconds)`.
 * @param tripCount - 1 for the first trip; values below 1 are treated as 1.
 */
export function openWaitSeconds(tripCount: number, s: BreakerSettings): number {
  const n = Math.max(1, tripCount);
  return Math.min(s.openSeconds * Math.pow(s.backoffMultiplier, n - 1), s.maxOpenSeconds);
}

/** Appends `S` or `F` to a window string, keeping the newest `size` entries. */
export function pushWindow(window: string, success: boolean, size: number): string {
  const next = window + (success ? 'S' : 'F');
  return next.length > size ? next.slice(next.length - size) : next;
}

/**
 * Why a CLOSED breaker must trip after a failure, or undefined when it stays CLOSED.
 * @param consecutiveFailures - including the failure just recorded.
 * @param window - the window including the failure just recorded.
 */
export function tripReason(consecutiveFailures: number, window: string, s: BreakerSettings): string | undefined {
  if (consecutiveFailures >= s.failureThreshold) return `${consecutiveFailures} consecutive failures (threshold ${s.failureThreshold})`;
  if (window.length >= s.minimumRuns) {
    const failures = [...window].filter((c) => c === 'F').length;
    const rate = failures / window.length;
    if (rate >= s.failureRateThreshold) {
      return `failure rate ${(rate * 100).toFixed(0)} % over the last ${window.length} runs (threshold ${(s.failureRateThreshold * 100).toFixed(0)} %)`;
    }
  }
  return undefined;
}

/**
 * How long a probe claim stays valid, seconds: `max(maxOpenSeconds, 2 * cadenceMinutes * 60)`
 * (default 4 h). A claim held longer belongs to an execution that never recorded (for example
 * one stopped by the kill switch), and another cycle may take it over, so a HALF_OPEN breaker
 * never stays stuck.
 */
export function probeLeaseSeconds(s: BreakerSettings, cadenceMinutes: number): number {
  return Math.max(s.maxOpenSeconds, 2 * cadenceMinutes * 60);
}

/** What "Plan cycle" does with an agent, by its breaker. */
export type PlanBreakerDecision =
  /** CLOSED: run normally. */
  | { readonly action: 'run' }
  /** HALF_OPEN and this cycle already holds the probe (a retried "Plan cycle"): run as the probe. */
  | { readonly action: 'probe' }
  /** The probe is free (OPEN wait over, released or stale claim): try to claim it with a conditional write. */
  | { readonly action: 'claim' }
  /** Do not run; `reason` says why. */
  | { readonly action: 'skip'; readonly reason: string };

/**
 * Decides, at plan time, what the breaker allows this cycle.
 * @param nowMs - the cycle's "now" (execution start time), epoch ms.
 * @param leaseSeconds - see {@link probeLeaseSeconds}.
 * @param releasedBeforeMs - a probe claimed at or before this time (epoch ms) is free: the time of the
 *   last halt, when the kill switch stopped every running cycle, so a stopped probe never blocks its
 *   agent for a lease after the resume. Default: none.
 */
export function planBreakerDecision(f: BreakerFields, cycleId: string, nowMs: number, leaseSeconds: number, releasedBeforeMs = -Infinity): PlanBreakerDecision {
  switch (f.breaker) {
    case 'CLOSED':
      return { action: 'run' };
    case 'OPEN': {
      const until = f.openUntil ? Date.parse(f.openUntil) : NaN;
      if (Number.isFinite(until) && nowMs < until) return { action: 'skip', reason: `breaker OPEN until ${f.openUntil}` };
      return { action: 'claim' };
    }
    case 'HALF_OPEN': {
      if (!f.probeCycleId) return { action: 'claim' };
      if (f.probeCycleId === cycleId) return { action: 'probe' };
      const claimedAt = f.probeClaimedAt ? Date.parse(f.probeClaimedAt) : NaN;
      if (Number.isFinite(claimedAt) && (nowMs >= claimedAt + leaseSeconds * 1000 || claimedAt <= releasedBeforeMs)) return { action: 'claim' };
      return { action: 'skip', reason: `breaker HALF_OPEN: probe already taken by ${f.probeCycleId}` };
    }
  }
}

/**
 * The breaker after this cycle claims the probe: HALF_OPEN, held by `cycleId` since `nowIso`.
 * The caller persists it with a version-conditional write.
 * @throws {Error} when the breaker is CLOSED (there is nothing to probe).
 */
export function claimProbe<T extends BreakerFields>(f: T, cycleId: string, nowIso: string): T {
  if (f.breaker === 'CLOSED') throw new Error('Cannot claim a probe on a CLOSED breaker');
  return { ...f, breaker: 'HALF_OPEN', probeCycleId: cycleId, probeClaimedAt: nowIso };
}

/** Result of {@link breakerAfterOutcome}. */
export interface BreakerStep<T> {
  /** The fields after the outcome. */
  readonly fields: T;
  /** `FROM->TO` when the state changed, e.g. `CLOSED->OPEN`. */
  readonly transition?: string;
  /** Why it tripped, when it tripped. */
  readonly reason?: string;
}

/**
 * Applies one cycle's outcome to the breaker.
 * @param f - fields whose `consecutiveFailures` and `window` already include this outcome
 *   (see `agent-state.ts`); a success that closes the breaker resets the window to ''.
 * @param outcome - the agent's outcome this cycle.
 * @param cycleId - the recording cycle; only the cycle holding the probe moves a HALF_OPEN breaker.
 * @param nowMs - epoch ms used for `openedAt` / `openUntil`.
 */
export function breakerAfterOutcome<T extends BreakerFields>(
  f: T,
  outcome: 'SUCCEEDED' | 'FAILED' | 'SKIPPED',
  cycleId: string,
  nowMs: number,
  s: BreakerSettings,
): BreakerStep<T> {
  const isProbe = f.breaker === 'HALF_OPEN' && f.probeCycleId === cycleId;
  if (outcome === 'SKIPPED') {
    if (isProbe) return { fields: { ...f, probeCycleId: undefined, probeClaimedAt: undefined } };
    return { fields: f };
  }
  const open = (from: BreakerState, reason: string): BreakerStep<T> => {
    const tripCount = f.tripCount + 1;
    return {
      fields: {
        ...f,
        breaker: 'OPEN',
        tripCount,
        openedAt: new Date(nowMs).toISOString(),
        openUntil: new Date(nowMs + openWaitSeconds(tripCount, s) * 1000).toISOString(),
        probeCycleId: undefined,
        probeClaimedAt: undefined,
      },
      transition: `${from}->OPEN`,
      reason,
    };
  };
  if (isProbe) {
    if (outcome === 'FAILED') return open('HALF_OPEN', 'probe failed');
    return {
      fields: {
        ...f,
        breaker: 'CLOSED',
        tripCount: 0,
        consecutiveFailures: 0,
        window: '',
        openedAt: undefined,
        openUntil: undefined,
        probeCycleId: undefined,
        probeClaimedAt: undefined,
      },
      transition: 'HALF_OPEN->CLOSED',
      reason: 'probe succeeded',
    };
  }
  if (f.breaker === 'CLOSED' && outcome === 'FAILED') {
    const why = tripReason(f.consecutiveFailures, f.window, s);
    if (why) return open('CLOSED', why);
  }
  return { fields: f };
}
