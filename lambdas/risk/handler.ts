/**
 * "Assess risk": the pre-trade risk gate that runs first in every cycle.
 *
 * Input `{ cycleId, cycleSeq, mode }` (from the ASL). Output {@link RiskAssessment}:
 * verdict OK | REDUCE | HALT, the reasons, every limit compared, the figures, the bar's
 * timestamp. Bad data is a HALT verdict (fails closed); an invalid input or a DynamoDB error
 * throws, so Step Functions retries and then fails closed too. Emits RISK_METRICS.
 * Formulas and verdict rules: `docs/risk.md`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { riskAssessmentSchema, type RiskAssessment, MODES } from '../shared/contracts';
import { METRICS_NAMESPACE } from '../shared/env';
import { RISK_METRICS, SERVICE_NAME } from '../shared/metrics-catalog';
import { assessRisk } from '../shared/trading/risk-assessment';
import { publishAgentTradingMetrics } from '../shared/trading/risk-metrics';
import { documentClient, tradingEnv, tradingSettings } from '../shared/trading/runtime';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });

const riskInputSchema = z.object({ cycleId: z.string().min(1), cycleSeq: z.number().int().min(1), mode: z.enum(MODES) });

/**
 * @throws {Error} named `RiskInputInvalid` (with the field path) on a malformed payload, `RiskOutputInvalid`
 *   when the engine's own result is not a whole RiskAssessment (the cycle fails closed).
 */
export const handler = async (event: unknown): Promise<RiskAssessment> => {
  const parsed = riskInputSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const err = new Error(`Risk input is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    err.name = 'RiskInputInvalid';
    throw err;
  }
  const input = parsed.data;
  const env = tradingEnv();
  const settings = tradingSettings();
  const assessment = await assessRisk(
    {
      doc: documentClient(),
      ledgerTable: env.ledgerTable,
      settings,
      marketDataFile: env.marketDataFile,
      ...(settings.perAgentMetrics ? { onAgentFigures: (f: Parameters<typeof publishAgentTradingMetrics>[1]) => publishAgentTradingMetrics(metrics, f) } : {}),
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
