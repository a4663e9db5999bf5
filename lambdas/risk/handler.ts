/**
 * "Assess risk": the pre-trade risk gate that runs first in every cycle.
 *
 * Input `{ cycleId, cycleSeq, mode }` (from the ASL). Output {@link RiskAssessment}:
 * verdict OK | REDUCE | HALT, the reasons, every limit compared, the figures, the bar's
 * timestamp. Bad data is a HALT verdict (fails closed); an invalid input or a DynamoDB error
 * throws, so Step Functions retries and then fails closed too. Emits RISK_METRICS.
 * Formulas and verdict rules: `docs/risk.md`.
 *
 * Built by {@link createRiskHandler} from its ports; the module-level {@link handler} (the Lambda
 * entry) builds them from the environment at its first invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { riskAssessmentSchema, type RiskAssessment, MODES } from '../shared/contracts';
import { METRICS_NAMESPACE } from '../shared/env';
import { RISK_METRICS, SERVICE_NAME } from '../shared/metrics-catalog';
import { assessRisk } from '../shared/trading/risk-assessment';
import { publishAgentTradingMetrics } from '../shared/trading/risk-metrics';
import { tradingPortsFromEnv, type TradingPorts } from '../shared/trading/runtime';
import { cycleAnnotations, traced } from '../shared/tracing';

const riskInputSchema = z.object({ cycleId: z.string().min(1), cycleSeq: z.number().int().min(1), mode: z.enum(MODES) });

/** The risk gate's ports: the trading ports (Ledger, settings, market data file), and its logger and metrics. */
export interface RiskPorts extends Pick<TradingPorts, 'doc' | 'tables' | 'settings' | 'marketDataFile'> {
  /** @default a Powertools Logger (service agent-fleet), created when the handler is built */
  readonly logger?: Logger;
  /** @default Powertools Metrics (namespace AgentFleet), created when the handler is built */
  readonly metrics?: Metrics;
}

/** The risk Lambda's handler: `{ cycleId, cycleSeq, mode }` in, a {@link RiskAssessment} out. */
export type RiskHandler = (event: unknown) => Promise<RiskAssessment>;

/**
 * Builds the risk handler from its ports.
 * @returns a handler that throws an Error named `RiskInputInvalid` (with the field path) on a malformed
 *   payload, `RiskOutputInvalid` when the engine's own result is not a whole RiskAssessment (the cycle
 *   fails closed), and DynamoDB errors as they are (Step Functions retries, then fails closed).
 */
export function createRiskHandler(ports: RiskPorts): RiskHandler {
  const logger = ports.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics = ports.metrics ?? new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });
  return async (event) => {
    const parsed = riskInputSchema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const err = new Error(`Risk input is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      err.name = 'RiskInputInvalid';
      throw err;
    }
    const input = parsed.data;
    const { settings } = ports;
    const assessment = await assessRisk(
      {
        doc: ports.doc,
        ledgerTable: ports.tables.ledger,
        settings,
        marketDataFile: ports.marketDataFile,
        ...(settings.perAgentMetrics
          ? { onAgentFigures: (f: Parameters<typeof publishAgentTradingMetrics>[1]) => publishAgentTradingMetrics(metrics, f) }
          : {}),
      },
      input,
    );
    // The boundary: what leaves the gate is a whole RiskAssessment ("Verify risk verdict" checks it again, for any risk entry).
    const valid = riskAssessmentSchema.safeParse(assessment);
    if (!valid.success) {
      const issue = valid.error.issues[0];
      const err = new Error(`Risk output is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      err.name = 'RiskOutputInvalid';
      throw err;
    }
    logger.appendKeys({ cycleId: input.cycleId });
    logger.info('Risk assessed', { verdict: assessment.verdict, reasons: assessment.reasons, asOf: assessment.asOf });
    metrics.addMetric(RISK_METRICS.halt, MetricUnit.Count, assessment.verdict === 'HALT' ? 1 : 0);
    metrics.addMetric(RISK_METRICS.reduce, MetricUnit.Count, assessment.verdict === 'REDUCE' ? 1 : 0);
    if (assessment.metrics.grossExposureUsd !== undefined)
      metrics.addMetric(RISK_METRICS.grossExposureUsd, MetricUnit.NoUnit, assessment.metrics.grossExposureUsd);
    if (assessment.metrics.equityUsd !== undefined) metrics.addMetric(RISK_METRICS.equityUsd, MetricUnit.NoUnit, assessment.metrics.equityUsd);
    if (assessment.metrics.varFraction !== undefined) metrics.addMetric(RISK_METRICS.varFraction, MetricUnit.NoUnit, assessment.metrics.varFraction);
    metrics.publishStoredMetrics();
    logger.removeKeys(['cycleId']);
    return assessment;
  };
}

let deployed: RiskHandler | undefined;

/**
 * The Lambda entry point: {@link createRiskHandler} on the ports of the environment (LEDGER_TABLE,
 * CONTROL_TABLE, CYCLES_TABLE, MARKET_DATA_FILE, TRADING_SETTINGS), built at the first invocation; traced
 * (annotation cycleId) when `monitoring.tracing` is on (`lambdas/shared/tracing.ts`).
 * @throws see {@link createRiskHandler}; `Missing environment variable NAME` or a settings error at the first invocation.
 */
export const handler: RiskHandler = traced((event: unknown) => (deployed ??= createRiskHandler(tradingPortsFromEnv()))(event), cycleAnnotations);
