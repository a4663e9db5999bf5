/**
 * The stack's alarms as plain data: name, metric, statistic, threshold, periods and what the
 * Master does when each goes to ALARM. Pure (no CDK constructs), so the Master's `ALARM_POLICY`
 * can be computed before the alarms exist (no circular dependency), and the local runtime can
 * read the same specs it evaluates.
 *
 * Every alarm is a single-metric alarm except `NoSuccessfulCycle`, a metric math alarm built only
 * of `FILL`, `IF` and comparisons, which the local runtime's evaluator (`local/alarms.ts`) supports.
 *
 * No halting alarm treats missing data as breaching: CloudWatch evaluates a new alarm about a
 * minute after it is created (AWS::CloudWatch::Alarm: "the alarm state is immediately set to
 * INSUFFICIENT_DATA. The alarm is then evaluated ... Any actions associated with the new state are
 * then executed"), and a fresh stack has no datapoint yet, so a `breaching` alarm with a halting
 * action would halt every first deploy (CloudWatch User Guide, "Configuring how CloudWatch alarms
 * treat missing data").
 *
 * Thresholds come from the specification's alert rules (R-ALERTS in docs/requirements.md) (success rate below 80 %, 5 consecutive failures,
 * 3 UNHEALTHY cycles, cycle duration over 2x the average) and from the config
 * (`supervisor.maxOpenBreakerFraction`).
 */
import type { OrchestratorConfig } from '../config/schema';
import { AGENT_METRICS, CYCLE_METRICS, RISK_METRICS, SERVICE_NAME, SLOT_METRICS } from '../../lambdas/shared/metrics-catalog';
import { METRICS_NAMESPACE } from '../../lambdas/shared/env';

/** What the Master does when an alarm goes to ALARM: engage the kill switch, enter safe mode, or only notify people. */
export type AlarmPolicy = 'halt' | 'safe-mode' | 'notify';

/** CloudWatch comparison operators used here. */
export type AlarmComparison = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold';

/** One alarm, as data. */
export interface AlarmSpec {
  /** Kind, e.g. `CycleFailed` or `LowSuccessRate`; part of the alarm name and of the construct id. */
  readonly kind: string;
  /** Physical alarm name: `${stackName}-<Kind>` or, per agent, `${stackName}-<agent>-<Kind>`. */
  readonly alarmName: string;
  /** Agent the alarm watches, for per-agent alarms. */
  readonly agent?: string;
  /** Metric namespace: `AWS/States` or {@link METRICS_NAMESPACE}. */
  readonly namespace: string;
  /** Metric name, from `lambdas/shared/metrics-catalog.ts` or the AWS/States metrics. */
  readonly metricName: string;
  /**
   * Dimensions. Custom metrics: `service` (and `agent`); AWS/States: `StateMachineArn`, whose value
   * is filled in by the construct (the ARN is a CloudFormation expression), so here it is `undefined`.
   */
  readonly dimensions: Readonly<Record<string, string | undefined>>;
  /** Statistic: `Sum`, `Maximum` or `Minimum`. */
  readonly statistic: 'Sum' | 'Maximum' | 'Minimum';
  /** Period in seconds (a multiple of 60). */
  readonly periodSeconds: number;
  /** Periods evaluated. */
  readonly evaluationPeriods: number;
  /** Breaching periods among `evaluationPeriods` that trigger ALARM. */
  readonly datapointsToAlarm: number;
  /** Threshold, in the metric's unit (fractions 0-1, percent 0-100, counts). */
  readonly threshold: number;
  /** Comparison of the statistic with the threshold. */
  readonly comparison: AlarmComparison;
  /**
   * How missing data counts. Always `notBreaching` for alarms whose policy is not `notify` (see the
   * module doc: a fresh stack has no data, and a breaching halt alarm would halt every first deploy).
   */
  readonly treatMissingData: 'breaching' | 'notBreaching';
  /**
   * Metric math instead of the single metric (`namespace`/`metricName`/`dimensions`/`statistic` then
   * describe the main input, for people). `metrics` maps each expression id (lower-case first letter,
   * CloudWatch rule) to its metric; the `StateMachineArn` dimension is filled by the construct as above.
   * Default none (single-metric alarm).
   */
  readonly expression?: {
    /** The expression, e.g. `IF(FILL(succeeded, 0) >= 1, 0, FILL(started, 0))`. */
    readonly text: string;
    /** Id -> metric, each with the alarm's period. */
    readonly metrics: Readonly<
      Record<
        string,
        {
          readonly namespace: string;
          readonly metricName: string;
          readonly dimensions: Readonly<Record<string, string | undefined>>;
          readonly statistic: 'Sum' | 'Maximum' | 'Minimum';
        }
      >
    >;
  };
  /** What the Master does on ALARM. */
  readonly policy: AlarmPolicy;
  /** One sentence for people: what it means and what happens. */
  readonly description: string;
}

/** CloudWatch's limit: period x evaluation periods may not exceed one day (CloudWatch PutMetricAlarm quota). */
const MAX_EVALUATION_RANGE_SECONDS = 86_400;

/**
 * Period for `evaluationPeriods` periods of `seconds` each, clamped so the evaluation range fits
 * CloudWatch's one-day limit and rounded down to a whole minute (periods over 60 s must be multiples of 60).
 */
export function clampPeriod(seconds: number, evaluationPeriods: number): number {
  const max = Math.floor(MAX_EVALUATION_RANGE_SECONDS / evaluationPeriods / 60) * 60;
  return Math.max(60, Math.min(Math.floor(seconds / 60) * 60, max));
}

/** Name of the alarm on the Master function's own errors (notifies people only: it cannot reach the Master). */
export const masterErrorsAlarmName = (stackName: string): string => `${stackName}-MasterErrors`;
/** Name of the alarm on the Master's failed asynchronous invocations (its on-failure queue has messages). */
export const masterDlqAlarmName = (stackName: string): string => `${stackName}-MasterDlqNotEmpty`;
/** Name of the alarm on schedule targets that could not start an execution (the schedules' dead-letter queue has messages). */
export const scheduleDlqAlarmName = (stackName: string): string => `${stackName}-ScheduleDlqNotEmpty`;

/**
 * The alarms that route to the Master (fleet alarms and per-agent alarms of every enabled agent).
 * Not included: the Master's own errors and dead-letter-queue alarms (see {@link masterErrorsAlarmName},
 * {@link masterDlqAlarmName}, {@link scheduleDlqAlarmName}), which notify people only.
 *
 * @param config - validated config: cadence (period), `supervisor.maxOpenBreakerFraction`, enabled agents.
 * @param stackName - prefix of every alarm name.
 */
export function fleetAlarmSpecs(config: OrchestratorConfig, stackName: string): AlarmSpec[] {
  const cadence = config.cycle.cadenceMinutes * 60;
  const service = { service: SERVICE_NAME };
  const sfnDims = { StateMachineArn: undefined };
  const one = clampPeriod(cadence, 1);
  const fleet = (
    s: Omit<AlarmSpec, 'alarmName' | 'evaluationPeriods' | 'datapointsToAlarm' | 'periodSeconds' | 'treatMissingData'> & Partial<AlarmSpec>,
  ): AlarmSpec => ({
    alarmName: `${stackName}-${s.kind}`,
    periodSeconds: one,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: 'notBreaching',
    ...s,
  });
  const specs: AlarmSpec[] = [
    fleet({
      kind: 'CycleFailed',
      namespace: 'AWS/States',
      metricName: 'ExecutionsFailed',
      dimensions: sfnDims,
      statistic: 'Sum',
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      policy: 'halt',
      description: 'A cycle execution failed. The Master halts the system.',
    }),
    fleet({
      kind: 'CycleTimedOut',
      namespace: 'AWS/States',
      metricName: 'ExecutionsTimedOut',
      dimensions: sfnDims,
      statistic: 'Sum',
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      policy: 'halt',
      description: 'A cycle execution timed out. The Master halts the system.',
    }),
    // Cycles keep starting and none succeeds (hung, aborted or failing cycles), two cadences in a row.
    // Metric math so that no data (a fresh stack, a halted one with its schedules disabled) is not a
    // breach: the expression is the number of cycles started in a period in which none succeeded.
    // IF and FILL: CloudWatch User Guide, "Metric math syntax and functions". Two periods of one
    // cadence each (2 of 2), so a cycle whose start and success fall in different periods cannot halt.
    fleet({
      kind: 'NoSuccessfulCycle',
      namespace: 'AWS/States',
      metricName: 'ExecutionsSucceeded',
      dimensions: sfnDims,
      statistic: 'Sum',
      periodSeconds: clampPeriod(cadence, 2),
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
      expression: {
        text: 'IF(FILL(succeeded, 0) >= 1, 0, FILL(started, 0))',
        metrics: {
          succeeded: { namespace: 'AWS/States', metricName: 'ExecutionsSucceeded', dimensions: sfnDims, statistic: 'Sum' },
          started: { namespace: 'AWS/States', metricName: 'ExecutionsStarted', dimensions: sfnDims, statistic: 'Sum' },
        },
      },
      policy: 'halt',
      description:
        'Cycles started but none succeeded in two consecutive cadences (no data, e.g. before the first cycle, is not a breach). The Master halts the system.',
    }),
    fleet({
      kind: 'RiskHalt',
      namespace: METRICS_NAMESPACE,
      metricName: RISK_METRICS.halt,
      dimensions: service,
      statistic: 'Maximum',
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      policy: 'halt',
      description: 'The pre-trade risk check returned HALT. The Master halts the system.',
    }),
    fleet({
      kind: 'TooManyOpenBreakers',
      namespace: METRICS_NAMESPACE,
      metricName: CYCLE_METRICS.openBreakerFraction,
      dimensions: service,
      statistic: 'Maximum',
      threshold: config.supervisor.maxOpenBreakerFraction,
      comparison: 'GreaterThanOrEqualToThreshold',
      policy: 'halt',
      description: `At least ${config.supervisor.maxOpenBreakerFraction} of enabled agents have OPEN circuit breakers. The Master halts the system.`,
    }),
    fleet({
      kind: 'CriticalAgentFailed',
      namespace: METRICS_NAMESPACE,
      metricName: CYCLE_METRICS.criticalFailures,
      dimensions: service,
      statistic: 'Sum',
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      policy: 'halt',
      description: 'A critical-domain agent failed (fail-stop). The Master halts the system.',
    }),
    fleet({
      kind: 'FleetFailing',
      namespace: METRICS_NAMESPACE,
      metricName: CYCLE_METRICS.failedAgentFraction,
      dimensions: service,
      statistic: 'Minimum',
      periodSeconds: clampPeriod(cadence, 3),
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      threshold: 0.5,
      comparison: 'GreaterThanOrEqualToThreshold',
      policy: 'halt',
      description: 'Most agents (at least half) failed in each of the last 3 cycles. The Master halts the system.',
    }),
    fleet({
      kind: 'LateSlot',
      namespace: METRICS_NAMESPACE,
      metricName: SLOT_METRICS.late,
      dimensions: service,
      statistic: 'Maximum',
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      policy: 'notify',
      description: `A schedule slot was delivered more than cycle.maxLatenessSeconds (${config.cycle.maxLatenessSeconds} s) after its scheduled time and skipped: that bar was not traded. People are notified.`,
    }),
    fleet({
      kind: 'CycleSlow',
      namespace: METRICS_NAMESPACE,
      metricName: CYCLE_METRICS.durationRatio,
      dimensions: service,
      statistic: 'Maximum',
      threshold: 2,
      comparison: 'GreaterThanThreshold',
      policy: 'notify',
      description: 'A cycle took more than twice its rolling average. People are notified.',
    }),
  ];
  if (!config.monitoring.perAgentAlarms) {
    // Fleet form of the per-agent alerts (R-ALERTS): one alarm each on the worst agent's value, so the
    // number of alarms does not grow with the fleet. The notification names the metric; the
    // dashboard and `npm run ops -- status` name the agent.
    specs.push(
      fleet({
        kind: 'AnyAgentUnhealthy',
        namespace: METRICS_NAMESPACE,
        metricName: CYCLE_METRICS.maxUnhealthyCycles,
        dimensions: service,
        statistic: 'Maximum',
        threshold: 3,
        comparison: 'GreaterThanOrEqualToThreshold',
        policy: 'notify',
        description: 'An agent has been UNHEALTHY for 3 or more cycles. People are notified.',
      }),
      fleet({
        kind: 'AnyAgentLowSuccessRate',
        namespace: METRICS_NAMESPACE,
        metricName: CYCLE_METRICS.minSuccessRatePercent,
        dimensions: service,
        statistic: 'Minimum',
        threshold: 80,
        comparison: 'LessThanThreshold',
        policy: 'notify',
        description: "An agent's success rate is below 80 %. People are notified.",
      }),
      fleet({
        kind: 'AnyAgentFailureStreak',
        namespace: METRICS_NAMESPACE,
        metricName: CYCLE_METRICS.maxConsecutiveFailures,
        dimensions: service,
        statistic: 'Maximum',
        threshold: 5,
        comparison: 'GreaterThanOrEqualToThreshold',
        policy: 'notify',
        description: 'An agent failed 5 or more times in a row. People are notified.',
      }),
    );
    return specs;
  }
  for (const agent of config.agents.filter((a) => a.enabled)) {
    const dims = { service: SERVICE_NAME, agent: agent.name };
    const per = (
      kind: string,
      metricName: string,
      statistic: AlarmSpec['statistic'],
      threshold: number,
      comparison: AlarmComparison,
      description: string,
    ): AlarmSpec => ({
      kind,
      alarmName: `${stackName}-${agent.name}-${kind}`,
      agent: agent.name,
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensions: dims,
      statistic,
      periodSeconds: one,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold,
      comparison,
      treatMissingData: 'notBreaching',
      policy: 'notify',
      description,
    });
    specs.push(
      per(
        'Unhealthy',
        AGENT_METRICS.unhealthyCycles,
        'Maximum',
        3,
        'GreaterThanOrEqualToThreshold',
        `Agent ${agent.name} has been UNHEALTHY for 3 or more cycles.`,
      ),
      per('LowSuccessRate', AGENT_METRICS.successRatePercent, 'Minimum', 80, 'LessThanThreshold', `Agent ${agent.name}'s success rate is below 80 %.`),
      per(
        'FailureStreak',
        AGENT_METRICS.consecutiveFailures,
        'Maximum',
        5,
        'GreaterThanOrEqualToThreshold',
        `Agent ${agent.name} failed 5 or more times in a row.`,
      ),
    );
  }
  return specs;
}

/**
 * The Master's `ALARM_POLICY`: alarm name -> what to do on ALARM, for the fleet alarms of
 * {@link fleetAlarmSpecs}, plus `'*': 'notify'` for every other alarm. Per-agent alarms are left out
 * (they fall under `*`): listing them would grow the variable with the fleet past Lambda's 4 KB
 * limit on all environment variables together (AWS Lambda quotas).
 */
export function alarmPolicy(config: OrchestratorConfig, stackName: string): Record<string, AlarmPolicy> {
  return {
    '*': 'notify',
    ...Object.fromEntries(
      fleetAlarmSpecs(config, stackName)
        .filter((s) => !s.agent)
        .map((s) => [s.alarmName, s.policy]),
    ),
  };
}
