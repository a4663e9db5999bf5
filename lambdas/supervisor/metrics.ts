/**
 * The metric values "Record outcomes" emits (names from `lambdas/shared/metrics-catalog.ts`).
 * Pure: the handler hands them to Powertools Metrics.
 */
import type { AgentStateItem } from '../shared/contracts';
import { AGENT_METRICS, CYCLE_METRICS } from '../shared/metrics-catalog';
import { successRate } from '../shared/supervision/health';

/** One metric value. `unit` is a CloudWatch unit name. */
export interface MetricValue {
  readonly name: string;
  readonly unit: 'Count' | 'Milliseconds' | 'Percent' | 'None';
  readonly value: number;
}

/** Per-agent metrics for one outcome and the state after it (dimension `agent` added by the caller). */
export function agentMetricValues(o: { outcome: string; durationMs: number; attempts: number }, state: AgentStateItem): MetricValue[] {
  return [
    { name: AGENT_METRICS.succeeded, unit: 'Count', value: o.outcome === 'SUCCEEDED' ? 1 : 0 },
    { name: AGENT_METRICS.failed, unit: 'Count', value: o.outcome === 'FAILED' ? 1 : 0 },
    { name: AGENT_METRICS.skipped, unit: 'Count', value: o.outcome === 'SKIPPED' ? 1 : 0 },
    { name: AGENT_METRICS.durationMs, unit: 'Milliseconds', value: o.durationMs },
    { name: AGENT_METRICS.retries, unit: 'Count', value: Math.max(0, o.attempts - 1) },
    { name: AGENT_METRICS.successRatePercent, unit: 'Percent', value: successRate(state) * 100 },
    { name: AGENT_METRICS.consecutiveFailures, unit: 'Count', value: state.consecutiveFailures },
    { name: AGENT_METRICS.unhealthyCycles, unit: 'Count', value: state.unhealthyCycles },
    { name: AGENT_METRICS.breakerOpen, unit: 'Count', value: state.breaker === 'OPEN' ? 1 : 0 },
  ];
}

/** Fleet figures of one cycle. */
export interface CycleFigures {
  /** ms from plan to record. */
  readonly durationMs: number;
  /** duration / rolling mean of previous cycles (1 when there is no history). */
  readonly durationRatio: number;
  readonly openBreakers: number;
  readonly enabledAgents: number;
  /** Agents that ran (SUCCEEDED or FAILED) this cycle. */
  readonly ran: number;
  readonly failed: number;
  readonly unhealthyAgents: number;
  readonly criticalFailures: number;
  /** Worst agent's consecutive UNHEALTHY cycles. */
  readonly maxUnhealthyCycles: number;
  /** Lowest success rate among agents with at least one execution, percent (100 when none has run). */
  readonly minSuccessRatePercent: number;
  /** Worst agent's consecutive failures. */
  readonly maxConsecutiveFailures: number;
}

/** Fleet aggregates over agent states: the worst agent's figures, for the fleet-wide alerts (R-ALERTS). */
export function fleetAggregates(
  states: readonly AgentStateItem[],
): Pick<CycleFigures, 'maxUnhealthyCycles' | 'minSuccessRatePercent' | 'maxConsecutiveFailures'> {
  const ran = states.filter((s) => s.executions > 0);
  return {
    maxUnhealthyCycles: Math.max(0, ...states.map((s) => s.unhealthyCycles)),
    minSuccessRatePercent: ran.length ? Math.min(...ran.map((s) => successRate(s) * 100)) : 100,
    maxConsecutiveFailures: Math.max(0, ...states.map((s) => s.consecutiveFailures)),
  };
}

/** Once-per-cycle metrics (dimension `service` only). Fractions are 0..1 (0 when the denominator is 0). */
export function cycleMetricValues(f: CycleFigures): MetricValue[] {
  return [
    { name: CYCLE_METRICS.durationMs, unit: 'Milliseconds', value: f.durationMs },
    { name: CYCLE_METRICS.durationRatio, unit: 'None', value: f.durationRatio },
    { name: CYCLE_METRICS.openBreakers, unit: 'Count', value: f.openBreakers },
    { name: CYCLE_METRICS.openBreakerFraction, unit: 'None', value: f.enabledAgents ? f.openBreakers / f.enabledAgents : 0 },
    { name: CYCLE_METRICS.failedAgentFraction, unit: 'None', value: f.ran ? f.failed / f.ran : 0 },
    { name: CYCLE_METRICS.unhealthyAgents, unit: 'Count', value: f.unhealthyAgents },
    { name: CYCLE_METRICS.criticalFailures, unit: 'Count', value: f.criticalFailures },
    { name: CYCLE_METRICS.completed, unit: 'Count', value: 1 },
    { name: CYCLE_METRICS.maxUnhealthyCycles, unit: 'Count', value: f.maxUnhealthyCycles },
    { name: CYCLE_METRICS.minSuccessRatePercent, unit: 'Percent', value: f.minSuccessRatePercent },
    { name: CYCLE_METRICS.maxConsecutiveFailures, unit: 'Count', value: f.maxConsecutiveFailures },
  ];
}
