/**
 * CloudWatch alarms and the fleet dashboard.
 *
 * Alarms come from `alarm-catalog.ts` (single-metric alarms only; the local runtime evaluates the
 * synthesized alarms itself). Each routes to the Master (the kill switch, which acts on it according
 * to `ALARM_POLICY`) and to the alert topic (people). The schedules' dead-letter-queue alarm only
 * notifies people.
 *
 * The Master is invoked through ONE resource-based permission for every alarm of the stack
 * (`SourceArn` `arn:...:alarm:<stackName>-*`) instead of one permission per alarm (what
 * `cloudwatch-actions.LambdaAction` adds): a Lambda function policy is limited to 20 KB (Lambda
 * quota), which one statement per alarm would exceed at a few dozen agents (3 alarms per agent).
 * Every alarm that invokes the Master depends on that permission: CloudWatch evaluates a new alarm
 * within about a minute and does not retry an action it was not authorized to run, so an alarm
 * created before the permission could fire into nothing.
 */
import { ArnFormat, Aws, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { notifyPeopleAlarm } from './notify-alarm';
import type { OrchestratorConfig } from '../config/schema';
import { AGENT_METRICS, AGENT_TRADING_METRICS, CYCLE_METRICS, RISK_METRICS, SERVICE_NAME } from '../../lambdas/shared/metrics-catalog';
import { METRICS_NAMESPACE } from '../../lambdas/shared/env';
import { fleetAlarmSpecs, scheduleDlqAlarmName, type AlarmSpec } from './alarm-catalog';

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  /** Validated config: cadence (periods), thresholds, enabled agents. */
  readonly config: OrchestratorConfig;
  /** Stack name: prefix of alarm names and the dashboard name. */
  readonly stackName: string;
  /** Cycle state machine ARN (dimension `StateMachineArn` of the AWS/States metrics). */
  readonly stateMachineArn: string;
  /** The Master (kill switch): alarm action of every fleet and per-agent alarm. */
  readonly master: lambda.IFunction;
  /** Alert topic: alarm action of every alarm. */
  readonly alertTopic: sns.ITopic;
  /** Schedules' dead-letter queue: alarm (notify only) when it has messages. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /**
   * Alarms made elsewhere (the Master's own) to show in the dashboard's alarm status widget.
   * @default none
   */
  readonly extraAlarms?: ReadonlyArray<cloudwatch.IAlarm>;
  /**
   * Dashboard name. Dashboards are global to the account (not per region), so the default carries the
   * region: the same stack deployed in two regions would otherwise fight over one name.
   * @default `${stackName}-${AWS::Region}-Fleet`
   */
  readonly dashboardName?: string;
}

/** CloudFormation's limit on resources in one stack (AWS CloudFormation quotas). */
export const MAX_STACK_RESOURCES = 500;

/**
 * Up to this many enabled agents, the per-agent dashboard widgets list one metric per agent (with its
 * name as the label); above it, each widget is one `SEARCH` expression, so the dashboard stays within
 * CloudWatch's 500 metrics per widget and 2,500 per dashboard (CloudWatch service quotas) at any fleet size.
 */
export const DASHBOARD_EXPLICIT_AGENT_SERIES = 25;

/** Alarms an alarm status widget can show (CloudWatch); beyond it the widget shows the alarms that act on the Master and the people-only ones. */
export const ALARM_STATUS_WIDGET_MAX_ALARMS = 100;

/**
 * Fails early, with the fix, when the stack has more resources than CloudFormation accepts, instead
 * of a `TooManyResourcesInStack` failure mid-deploy. Call it once the stack is complete.
 * @throws {Error} `Stack <name> would have N resources, over CloudFormation's limit of 500 ...`, naming
 *   `monitoring.perAgentAlarms` when per-agent alarms are on.
 */
export function assertResourceQuota(stack: Stack, config: OrchestratorConfig): void {
  const count = stack.node.findAll().filter((c) => CfnResource.isCfnResource(c)).length;
  if (count <= MAX_STACK_RESOURCES) return;
  const agents = config.agents.filter((a) => a.enabled).length;
  const hint = config.monitoring.perAgentAlarms
    ? ` ${3 * agents} of them are the per-agent alarms of ${agents} agents: set monitoring.perAgentAlarms: false to use three fleet-level alarms instead`
    : ' Agents with distinct code entries add one function each (4 resources): share an entry (agents[].entry) or split the fleet into stacks';
  throw new Error(
    `Stack ${stack.stackName} would have ${count} resources, over CloudFormation's limit of ${MAX_STACK_RESOURCES} per stack (AWS CloudFormation quotas).${hint}.`,
  );
}

const COMPARISON: Record<AlarmSpec['comparison'], cloudwatch.ComparisonOperator> = {
  GreaterThanOrEqualToThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  GreaterThanThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  LessThanThreshold: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
};

/** The alarms (fleet, per agent, schedule DLQ) and the dashboard. */
export class Monitoring extends Construct {
  /** Alarms that route to the Master, keyed by alarm name. */
  public readonly fleetAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** The permission that lets this stack's alarms invoke the Master; every alarm acting on the Master depends on it. */
  public readonly masterInvokePermission: lambda.CfnPermission;
  /** Schedules' dead-letter queue has messages (a slot could not start a cycle): notify only. */
  public readonly scheduleDlqAlarm: cloudwatch.Alarm;
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  private readonly perAgentAlarms = new Set<cloudwatch.IAlarm>();

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config, stackName } = props;
    const notify = new cwActions.SnsAction(props.alertTopic);
    const toMaster: cloudwatch.IAlarmAction = { bind: () => ({ alarmActionArn: props.master.functionArn }) };
    /** Lambda resource-based permission for this stack's alarms (Lambda developer guide, "Using resource-based policies"; CloudWatch "Lambda alarm actions"). */
    this.masterInvokePermission = new lambda.CfnPermission(this, 'InvokeFromStackAlarms', {
      action: 'lambda:InvokeFunction',
      functionName: props.master.functionArn,
      principal: 'lambda.alarms.cloudwatch.amazonaws.com',
      sourceAccount: stack.account,
      sourceArn: stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${stackName}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    });
    const dims = (d: Readonly<Record<string, string | undefined>>): Record<string, string> =>
      Object.fromEntries(Object.entries(d).map(([k, v]) => [k, k === 'StateMachineArn' ? props.stateMachineArn : (v as string)]));

    const alarms = new Map<string, cloudwatch.Alarm>();
    for (const spec of fleetAlarmSpecs(config, stackName)) {
      const period = Duration.seconds(spec.periodSeconds);
      const metric: cloudwatch.IMetric = spec.expression
        ? new cloudwatch.MathExpression({
            expression: spec.expression.text,
            period,
            usingMetrics: Object.fromEntries(
              Object.entries(spec.expression.metrics).map(([id, m]) => [
                id,
                new cloudwatch.Metric({ namespace: m.namespace, metricName: m.metricName, dimensionsMap: dims(m.dimensions), statistic: m.statistic, period }),
              ]),
            ),
          })
        : new cloudwatch.Metric({
            namespace: spec.namespace,
            metricName: spec.metricName,
            dimensionsMap: dims(spec.dimensions),
            statistic: spec.statistic,
            period,
          });
      const alarm = new cloudwatch.Alarm(this, spec.agent ? `${spec.agent}-${spec.kind}` : spec.kind, {
        alarmName: spec.alarmName,
        alarmDescription: `${spec.description} (policy: ${spec.policy})`,
        metric,
        threshold: spec.threshold,
        comparisonOperator: COMPARISON[spec.comparison],
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        treatMissingData: spec.treatMissingData === 'breaching' ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(toMaster, notify);
      alarm.node.addDependency(this.masterInvokePermission);
      if (spec.agent) this.perAgentAlarms.add(alarm);
      alarms.set(spec.alarmName, alarm);
    }
    this.fleetAlarms = alarms;

    this.scheduleDlqAlarm = notifyPeopleAlarm(this, 'ScheduleDlqAlarm', {
      alarmName: scheduleDlqAlarmName(stackName),
      description: "A schedule could not start a cycle after its retries (message in the schedules' dead-letter queue). People are notified.",
      metric: props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      topic: props.alertTopic,
    });

    this.dashboard = this.buildDashboard(props, [...alarms.values(), this.scheduleDlqAlarm, ...(props.extraAlarms ?? [])]);
  }

  private buildDashboard(props: MonitoringProps, allAlarms: cloudwatch.IAlarm[]): cloudwatch.Dashboard {
    const period = Duration.minutes(props.config.cycle.cadenceMinutes);
    const agents = props.config.agents.filter((a) => a.enabled).map((a) => a.name);
    const custom = (metricName: string, statistic: string, label: string, agent?: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: agent ? { service: SERVICE_NAME, agent } : { service: SERVICE_NAME },
        statistic,
        period,
        label,
      });
    const states = (metricName: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/States',
        metricName,
        dimensionsMap: { StateMachineArn: props.stateMachineArn },
        statistic: 'Sum',
        period,
        label,
      });
    // One series per agent for small fleets; one SEARCH per widget beyond (see DASHBOARD_EXPLICIT_AGENT_SERIES).
    const perAgent = (metricName: string, statistic: string): cloudwatch.IMetric[] =>
      agents.length <= DASHBOARD_EXPLICIT_AGENT_SERIES
        ? agents.map((a) => custom(metricName, statistic, a, a))
        : [
            new cloudwatch.MathExpression({
              expression: `SEARCH('{${METRICS_NAMESPACE},agent,service} MetricName="${metricName}" service="${SERVICE_NAME}"', '${statistic}', ${period.toSeconds()})`,
              period,
            }),
          ];
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName ?? `${props.stackName}-${Aws.REGION}-Fleet` });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Cycle outcome (executions)',
        left: [
          states('ExecutionsSucceeded', 'succeeded'),
          states('ExecutionsFailed', 'failed'),
          states('ExecutionsTimedOut', 'timed out'),
          states('ExecutionsAborted', 'aborted'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cycle duration (ms) and ratio to average',
        left: [custom(CYCLE_METRICS.durationMs, 'Maximum', 'duration ms')],
        right: [custom(CYCLE_METRICS.durationRatio, 'Maximum', 'ratio to average')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Risk verdicts',
        left: [custom(RISK_METRICS.halt, 'Sum', 'HALT'), custom(RISK_METRICS.reduce, 'Sum', 'REDUCE')],
        right: [custom(RISK_METRICS.varFraction, 'Maximum', 'VaR fraction')],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Agent success rate (%)',
        left: perAgent(AGENT_METRICS.successRatePercent, 'Minimum'),
        leftYAxis: { min: 0, max: 100 },
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Agent duration (ms)', left: perAgent(AGENT_METRICS.durationMs, 'Maximum'), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Agent retries', left: perAgent(AGENT_METRICS.retries, 'Sum'), width: 8 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Circuit breakers OPEN (1 = OPEN)',
        left: perAgent(AGENT_METRICS.breakerOpen, 'Maximum'),
        right: [custom(CYCLE_METRICS.openBreakerFraction, 'Maximum', 'OPEN fraction')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Fleet failures',
        left: [custom(CYCLE_METRICS.failedAgentFraction, 'Maximum', 'failed fraction')],
        right: [custom(CYCLE_METRICS.criticalFailures, 'Sum', 'critical failures'), custom(CYCLE_METRICS.unhealthyAgents, 'Maximum', 'UNHEALTHY agents')],
        width: 12,
      }),
    );
    if (props.config.monitoring.perAgentMetrics) {
      // Per-agent books (issue 12): P&L and exposure from "Assess risk", one series per agent (or one SEARCH).
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({ title: 'Agent P&L (USD)', left: perAgent(AGENT_TRADING_METRICS.pnlUsd, 'Maximum'), width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Agent P&L of the day (USD)', left: perAgent(AGENT_TRADING_METRICS.pnlTodayUsd, 'Minimum'), width: 8 }),
        new cloudwatch.GraphWidget({
          title: 'Agent gross exposure (USD) and daily-loss REDUCE (1 = reduce-only)',
          left: perAgent(AGENT_TRADING_METRICS.grossExposureUsd, 'Maximum'),
          right: perAgent(AGENT_TRADING_METRICS.reduceOnly, 'Maximum'),
          width: 8,
        }),
      );
    }
    const shown = allAlarms.length <= ALARM_STATUS_WIDGET_MAX_ALARMS ? allAlarms : allAlarms.filter((a) => !this.perAgentAlarms.has(a));
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title:
          shown.length < allAlarms.length
            ? `Alarms (fleet and people-only; ${allAlarms.length - shown.length} per-agent alarms in the CloudWatch console)`
            : 'Alarms',
        alarms: shown.slice(0, ALARM_STATUS_WIDGET_MAX_ALARMS),
        width: 24,
        height: Math.max(4, Math.ceil(Math.min(shown.length, ALARM_STATUS_WIDGET_MAX_ALARMS) / 4) + 2),
      }),
    );
    return dashboard;
  }
}
