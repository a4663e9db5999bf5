/**
 * Per-agent trading metrics (issue 12, "the CloudWatch dashboard gets the per-agent P&L and exposure metrics
 * behind `monitoring.perAgentMetrics`"): one EMF record per agent, dimensions `service` and `agent`, through
 * Powertools Metrics, the same way "Record outcomes" emits its per-agent metrics.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AGENT_TRADING_METRICS } from '../metrics-catalog';
import type { AgentRiskFigures } from './ledger';

/** The part of a Powertools `Metrics` instance used here (tests pass a recorder). */
export interface MetricsSink {
  addDimension(name: string, value: string): void;
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void;
  /** Flushes the stored metrics as one EMF record and clears them and the added dimensions (Powertools behaviour). */
  publishStoredMetrics(): void;
}

/**
 * Emits {@link AGENT_TRADING_METRICS} for every agent: one EMF record each (a record carries one set of dimensions).
 * Non-finite figures are skipped (EMF rejects them).
 */
export function publishAgentTradingMetrics(metrics: MetricsSink, figures: Readonly<Record<string, AgentRiskFigures>>): void {
  for (const [agent, f] of Object.entries(figures)) {
    metrics.addDimension('agent', agent);
    const add = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], v: number) => {
      if (Number.isFinite(v)) metrics.addMetric(name, unit, v);
    };
    add(AGENT_TRADING_METRICS.pnlUsd, MetricUnit.NoUnit, f.pnlUsd);
    add(AGENT_TRADING_METRICS.pnlTodayUsd, MetricUnit.NoUnit, f.pnlTodayUsd);
    add(AGENT_TRADING_METRICS.grossExposureUsd, MetricUnit.NoUnit, f.grossExposureUsd);
    add(AGENT_TRADING_METRICS.reduceOnly, MetricUnit.Count, f.reduceOnly ? 1 : 0);
    metrics.publishStoredMetrics();
  }
}
