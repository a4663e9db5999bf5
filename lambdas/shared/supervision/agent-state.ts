/**
 * One agent's state item, updated by one cycle's outcome: counters, health, breaker (pure).
 * `agent-state-store.ts` persists the result with a version-conditional write.
 *
 * Rules:
 * - counters `executions`, `successes`, `failures`, `skips`, `retries` only grow; only
 *   {@link resetAgentState} (an explicit operator action) zeroes them;
 * - `executions` counts SUCCEEDED and FAILED outcomes; skips count in `skips` only;
 * - `avgDurationMs` is the running mean over executions; `lastDurationMs` the last execution's;
 * - `retries` adds `attempts - 1` of every outcome;
 * - `unhealthyCycles` counts consecutive recorded cycles (skips included) after which the agent is
 *   UNHEALTHY, reset to 0 by any other health (alert at 3, R-ALERTS);
 * - an outcome whose cycle id is already in `recentCycleIds` (or `lastCycleId`) is not applied
 *   again: a retried "Record outcomes" never double counts.
 */
import type { AgentStateItem } from '../contracts';
import { breakerAfterOutcome, pushWindow, type BreakerSettings } from './breaker';
import { classifyHealth } from './health';

/** How many applied cycle ids an item remembers for idempotence. */
export const RECENT_CYCLE_IDS = 20;

/** One agent's outcome in one cycle, as the state update needs it. */
export interface OutcomeForState {
  readonly outcome: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  /** Duration of the run, ms (0 when unknown or skipped). */
  readonly durationMs: number;
  /** Attempts made (1 + retries); 0 for a plan-time skip. */
  readonly attempts: number;
}

/** The state of an agent never seen before: no runs, HEALTHY, breaker CLOSED, version 0. */
export function freshAgentState(agent: string): AgentStateItem {
  return {
    agent,
    executions: 0,
    successes: 0,
    failures: 0,
    skips: 0,
    consecutiveFailures: 0,
    unhealthyCycles: 0,
    retries: 0,
    avgDurationMs: 0,
    lastDurationMs: 0,
    window: '',
    health: 'HEALTHY',
    breaker: 'CLOSED',
    tripCount: 0,
    version: 0,
  };
}

/** True when `cycleId`'s outcome is already applied to this item. */
export function alreadyApplied(state: AgentStateItem, cycleId: string): boolean {
  return state.lastCycleId === cycleId || (state.recentCycleIds ?? []).includes(cycleId);
}

/** Result of {@link applyOutcome}. */
export interface AppliedState {
  /** The state to write (version + 1), or the input unchanged when `applied` is false. */
  readonly state: AgentStateItem;
  /** False when this cycle's outcome had already been applied (idempotent replay). */
  readonly applied: boolean;
  /** Breaker transition this outcome caused, e.g. `CLOSED->OPEN`. */
  readonly transition?: string;
  /** Why the breaker moved. */
  readonly transitionReason?: string;
}

/**
 * Applies one cycle's outcome to an agent's state (see the module comment for the rules).
 * @param ctx.nowMs - epoch ms of the recording (breaker `openedAt` / `openUntil`, `lastRunAt`).
 */
export function applyOutcome(
  state: AgentStateItem,
  o: OutcomeForState,
  ctx: { readonly cycleId: string; readonly nowMs: number; readonly breaker: BreakerSettings },
): AppliedState {
  if (alreadyApplied(state, ctx.cycleId)) {
    // A retried "Record outcomes": report the transition the first attempt made, never lose it.
    const last = state.lastTransition?.cycleId === ctx.cycleId ? state.lastTransition.transition : undefined;
    return { state, applied: false, ...(last ? { transition: last } : {}) };
  }
  const retries = state.retries + Math.max(0, o.attempts - 1);
  let next: AgentStateItem = { ...state, retries, lastOutcome: o.outcome, lastCycleId: ctx.cycleId };
  if (o.outcome === 'SKIPPED') {
    next = { ...next, skips: state.skips + 1 };
  } else {
    const success = o.outcome === 'SUCCEEDED';
    const executions = state.executions + 1;
    next = {
      ...next,
      executions,
      successes: state.successes + (success ? 1 : 0),
      failures: state.failures + (success ? 0 : 1),
      consecutiveFailures: success ? 0 : state.consecutiveFailures + 1,
      avgDurationMs: executions === 1 ? o.durationMs : state.avgDurationMs + (o.durationMs - state.avgDurationMs) / executions,
      lastDurationMs: o.durationMs,
      lastRunAt: new Date(ctx.nowMs).toISOString(),
      window: pushWindow(state.window, success, ctx.breaker.windowSize),
    };
  }
  const step = breakerAfterOutcome(next, o.outcome, ctx.cycleId, ctx.nowMs, ctx.breaker);
  next = step.fields;
  const health = classifyHealth(next);
  const recent = [...(state.recentCycleIds ?? []), ctx.cycleId].slice(-RECENT_CYCLE_IDS);
  next = {
    ...next,
    health,
    unhealthyCycles: health === 'UNHEALTHY' ? state.unhealthyCycles + 1 : 0,
    recentCycleIds: recent,
    ...(step.transition ? { lastTransition: { cycleId: ctx.cycleId, transition: step.transition } } : {}),
    version: state.version + 1,
  };
  return { state: next, applied: true, transition: step.transition, transitionReason: step.reason };
}

/**
 * The explicit reset (operator action, e.g. after fixing an agent): every counter to 0, health
 * HEALTHY, breaker CLOSED, trip count 0. Keeps `agent` and bumps `version`, so the write is still a
 * version-conditional update. This is the only function that lowers a counter.
 */
export function resetAgentState(state: AgentStateItem): AgentStateItem {
  return { ...freshAgentState(state.agent), version: state.version + 1 };
}
