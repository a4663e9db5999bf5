/**
 * Every custom metric the handlers emit (CloudWatch EMF through Powertools Metrics), with
 * its unit and dimensions. The alarms and the dashboard (`lib/constructs/monitoring.ts`) and
 * the local runtime's alarm evaluator read the same names from here, so a renamed metric
 * cannot silently orphan an alarm.
 *
 * Dimensions: every metric carries `service` (= {@link SERVICE_NAME}; Powertools adds it);
 * per-agent metrics also carry `agent`.
 */

/** Powertools `serviceName` of every handler; becomes the `service` dimension. */
export const SERVICE_NAME = 'agent-fleet';

/** Per-agent metrics, emitted by "Record outcomes" once per agent per cycle (dimensions: service, agent). */
export const AGENT_METRICS = {
  /** 1 when the agent succeeded this cycle, else 0. Unit Count. */
  succeeded: 'AgentSucceeded',
  /** 1 when the agent failed this cycle (after retries), else 0. Unit Count. */
  failed: 'AgentFailed',
  /** 1 when the agent was skipped (breaker OPEN, dependency, trading hours), else 0. Unit Count. */
  skipped: 'AgentSkipped',
  /** Duration of the agent's last attempt, ms. Unit Milliseconds. */
  durationMs: 'AgentDurationMs',
  /** Retries used this cycle (attempts - 1). Unit Count. */
  retries: 'AgentRetries',
  /** Lifetime success rate in percent (0-100). Alert (R-ALERTS): below 80. Unit Percent. */
  successRatePercent: 'AgentSuccessRate',
  /** Consecutive failures. Alert (R-ALERTS): 5 or more. Unit Count. */
  consecutiveFailures: 'AgentConsecutiveFailures',
  /** Consecutive cycles the agent has been UNHEALTHY. Alert (R-ALERTS): 3 or more. Unit Count. */
  unhealthyCycles: 'AgentUnhealthyCycles',
  /** 1 when the breaker is OPEN after this cycle, else 0. Unit Count. */
  breakerOpen: 'AgentBreakerOpen',
} as const;

/**
 * Per-agent trading metrics from each agent's own book, emitted by "Assess risk" once per verdict with figures
 * (dimensions: service, agent), behind `monitoring.perAgentMetrics`. Each is 1 custom metric per agent
 * (USD 0.30 a month, CloudWatch pricing).
 */
export const AGENT_TRADING_METRICS = {
  /** The agent's P&L since the start (net cash flow + market value of its positions), USD. Unit None. */
  pnlUsd: 'AgentPnlUsd',
  /** The agent's P&L of the day, USD. Unit None. */
  pnlTodayUsd: 'AgentPnlTodayUsd',
  /** Gross exposure of the agent's own positions, USD. Unit None. */
  grossExposureUsd: 'AgentGrossExposureUsd',
  /** 1 while the agent's daily-loss protection holds it in REDUCE, else 0. Unit Count. */
  reduceOnly: 'AgentReduceOnly',
} as const;

/** Fleet-level metrics, emitted by "Record outcomes" once per cycle (dimension: service). */
export const CYCLE_METRICS = {
  /** Cycle duration from plan to record, ms. Unit Milliseconds. */
  durationMs: 'CycleDurationMs',
  /** Cycle duration divided by the rolling average of previous cycles. Alert (R-ALERTS): over 2. Unit None. */
  durationRatio: 'CycleDurationRatio',
  /** Agents whose breaker is OPEN after this cycle. Unit Count. */
  openBreakers: 'OpenBreakers',
  /** OPEN breakers as a fraction of enabled agents (0-1). Unit None. */
  openBreakerFraction: 'OpenBreakerFraction',
  /** Agents that ran and failed this cycle, as a fraction of agents that ran (0-1). Unit None. */
  failedAgentFraction: 'FailedAgentFraction',
  /** Agents UNHEALTHY after this cycle. Unit Count. */
  unhealthyAgents: 'UnhealthyAgents',
  /** Critical-domain agents that failed this cycle. Unit Count. */
  criticalFailures: 'CriticalAgentFailures',
  /** 1 per recorded cycle. Unit Count. */
  completed: 'CycleRecorded',
  /** Worst agent's consecutive UNHEALTHY cycles (fleet form of the R-ALERTS alert at 3). Unit Count. */
  maxUnhealthyCycles: 'MaxAgentUnhealthyCycles',
  /** Lowest lifetime success rate among agents that have run, percent (fleet form of the R-ALERTS alert below 80). Unit Percent. */
  minSuccessRatePercent: 'MinAgentSuccessRate',
  /** Worst agent's consecutive failures (fleet form of the R-ALERTS alert at 5). Unit Count. */
  maxConsecutiveFailures: 'MaxAgentConsecutiveFailures',
} as const;

/** Slot metrics, emitted by "Plan cycle" once per delivered slot (dimension: service). */
export const SLOT_METRICS = {
  /** 1 when the slot was refused as late (delivered over `cycle.maxLatenessSeconds` after its scheduled time), else 0. Unit Count. */
  late: 'LateSlots',
  /** 1 when the slot ran no cycle (duplicate, overlap, late, halted), else 0. Unit Count. */
  skipped: 'SkippedSlots',
} as const;

/** Risk metrics, emitted by "Assess risk" once per attempt that produces a verdict (dimension: service). */
export const RISK_METRICS = {
  /** 1 when the verdict is HALT, else 0. Unit Count. */
  halt: 'RiskVerdictHalt',
  /** 1 when the verdict is REDUCE, else 0. Unit Count. */
  reduce: 'RiskVerdictReduce',
  /** Gross exposure, USD. Unit None. */
  grossExposureUsd: 'GrossExposureUsd',
  /** Equity (cash + positions at the current bar), USD. Unit None. */
  equityUsd: 'EquityUsd',
  /** Historical VaR as a fraction of equity. Unit None. */
  varFraction: 'VarFraction',
} as const;

/** Master (kill switch) metrics (dimension: service). */
export const MASTER_METRICS = {
  /** 1 per halt that changed the system state. Unit Count. */
  halted: 'SystemHalted',
  /** From the trigger's detection time to the flag set and schedules disabled, ms. Unit Milliseconds. */
  timeToHaltMs: 'TimeToHaltMs',
} as const;
