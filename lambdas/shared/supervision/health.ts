/**
 * Agent health, per the specification's health rule (requirement R-HEALTH in docs/requirements.md):
 *
 * - `successRate = successes / executions` (a fraction 0..1; skips are not executions);
 * - HEALTHY   when `successRate >= 0.95` and `consecutiveFailures == 0`;
 * - DEGRADED  when `successRate >= 0.80` or `consecutiveFailures <= 2`;
 * - UNHEALTHY otherwise.
 *
 * A fresh agent (0 executions) is HEALTHY: nothing has failed yet.
 *
 * Pure functions only.
 */
import type { HealthStatus } from '../contracts';

/** R-HEALTH threshold: success rate (fraction) at or above which an agent with no consecutive failure is HEALTHY. */
export const HEALTHY_SUCCESS_RATE = 0.95;
/** R-HEALTH threshold: success rate (fraction) at or above which an agent is at least DEGRADED. */
export const DEGRADED_SUCCESS_RATE = 0.8;
/** R-HEALTH threshold: an agent with at most this many consecutive failures is at least DEGRADED. */
export const DEGRADED_MAX_CONSECUTIVE_FAILURES = 2;

/** The counters health is computed from. */
export interface HealthCounters {
  /** Runs that ended SUCCEEDED or FAILED (skips excluded). */
  readonly executions: number;
  /** Runs that ended SUCCEEDED. */
  readonly successes: number;
  /** Failures since the last success. */
  readonly consecutiveFailures: number;
}

/**
 * Success rate as a fraction (0..1).
 * @returns 1 when there has been no execution yet (a fresh agent is not penalised).
 */
export function successRate(c: Pick<HealthCounters, 'executions' | 'successes'>): number {
  return c.executions === 0 ? 1 : c.successes / c.executions;
}

/**
 * Classifies an agent's health by the R-HEALTH rule (see the module comment).
 * @example classifyHealth({ executions: 20, successes: 19, consecutiveFailures: 0 }) // 'HEALTHY' (95 %)
 */
export function classifyHealth(c: HealthCounters): HealthStatus {
  if (c.executions === 0) return 'HEALTHY';
  const rate = successRate(c);
  if (rate >= HEALTHY_SUCCESS_RATE && c.consecutiveFailures === 0) return 'HEALTHY';
  if (rate >= DEGRADED_SUCCESS_RATE || c.consecutiveFailures <= DEGRADED_MAX_CONSECUTIVE_FAILURES) return 'DEGRADED';
  return 'UNHEALTHY';
}
