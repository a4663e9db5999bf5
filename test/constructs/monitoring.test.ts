/**
 * Monitoring (lib/constructs/monitoring.ts) on a bare Stack: one alarm per spec of alarm-catalog.ts
 * (fleet and per agent) with its metric, threshold and missing-data rule, each acting on the Master
 * and the alert topic and created after the ONE resource-based permission that lets this stack's
 * alarms invoke the Master; the schedules' dead-letter-queue alarm that only notifies people; the
 * dashboard (name, per-agent series or SEARCH beyond 25 agents, P&L widgets with per-agent metrics,
 * the alarm status widget within CloudWatch's 100 alarms); `assertResourceQuota` at 500 resources.
 */
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { OrchestratorConfigInput } from '../../lib/config/schema';
import { fleetAlarmSpecs } from '../../lib/constructs/alarm-catalog';
import {
  ALARM_STATUS_WIDGET_MAX_ALARMS,
  assertResourceQuota,
  DASHBOARD_EXPLICIT_AGENT_SERIES,
  MAX_STACK_RESOURCES,
  Monitoring,
  type MonitoringProps,
} from '../../lib/constructs/monitoring';
import { fixtureConfig } from '../fixtures/fleet';
import { flatten } from '../infra/template-helpers';

const SM = 'arn:aws:states:us-east-1:111111111111:stateMachine:Fleet-cycle';
const MASTER = 'arn:aws:lambda:us-east-1:111111111111:function:Fleet-master';

/** `n` more enabled agents named a0, a1, ... sharing the strategy entry. */
const withAgents =
  (n: number) =>
  (c: OrchestratorConfigInput): void => {
    for (let i = 0; i < n; i++) c.agents.push({ name: `a${i}`, faultDomain: 'strategy', timeoutSeconds: 60, entry: 'lambdas/agents/strategy/handler.ts' });
  };

const build = (config = fixtureConfig(), extra: Partial<MonitoringProps> = {}) => {
  const stack = new Stack(new App(), 'S');
  const alertTopic = new sns.Topic(stack, 'Alerts');
  const scheduleDeadLetterQueue = new sqs.Queue(stack, 'ScheduleDlq');
  const master = lambda.Function.fromFunctionArn(stack, 'Master', MASTER);
  const monitoring = new Monitoring(stack, 'Monitoring', {
    config,
    stackName: 'Fleet',
    stateMachineArn: SM,
    master,
    alertTopic,
    scheduleDeadLetterQueue,
    ...extra,
  });
  const template = Template.fromStack(stack);
  const alarms = new Map(
    Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, r]) => [
      r.Properties.AlarmName as string,
      { id, ...(r as { Properties: Record<string, any>; DependsOn?: string[] }) },
    ]),
  );
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map((r) => r.Properties);
  const body = JSON.parse(flatten(dashboard.DashboardBody)) as { widgets: Array<{ type: string; properties: Record<string, any> }> };
  const topicRef = { Ref: stack.getLogicalId(alertTopic.node.defaultChild as sns.CfnTopic) };
  return { stack, monitoring, template, alarms, dashboard, body, topicRef, config };
};

describe('Monitoring', () => {
  it("one permission lets this stack's alarms (<stackName>-*) of this account invoke the Master", () => {
    const { template } = build();
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    const [p] = Object.values(template.findResources('AWS::Lambda::Permission')).map((r) => r.Properties);
    expect(p).toMatchObject({ Action: 'lambda:InvokeFunction', FunctionName: MASTER, Principal: 'lambda.alarms.cloudwatch.amazonaws.com' });
    expect(p.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
    expect(flatten(p.SourceArn)).toBe('arn:aws:cloudwatch:REGION:ACCOUNT:alarm:Fleet-*');
  });

  it('one alarm per spec (fleet and per agent), acting on the Master and the topic, created after the permission', () => {
    const { alarms, config, topicRef, stack, monitoring } = build();
    const specs = fleetAlarmSpecs(config, 'Fleet');
    expect(specs.some((s) => s.agent)).toBe(true);
    expect([...monitoring.fleetAlarms.keys()].sort()).toEqual(specs.map((s) => s.alarmName).sort());
    expect([...alarms.keys()].sort()).toEqual([...specs.map((s) => s.alarmName), 'Fleet-ScheduleDlqNotEmpty'].sort());
    const permissionId = stack.getLogicalId(monitoring.masterInvokePermission);
    for (const spec of specs) {
      const a = alarms.get(spec.alarmName)!;
      expect(a.Properties.AlarmActions).toEqual([MASTER, topicRef]);
      expect(a.DependsOn).toContain(permissionId);
      expect(a.Properties).toMatchObject({
        AlarmDescription: `${spec.description} (policy: ${spec.policy})`,
        Threshold: spec.threshold,
        ComparisonOperator: spec.comparison,
        EvaluationPeriods: spec.evaluationPeriods,
        DatapointsToAlarm: spec.datapointsToAlarm,
        TreatMissingData: spec.treatMissingData,
      });
    }
  });

  it("single-metric alarms carry the spec's metric; the StateMachineArn dimension is the given ARN", () => {
    const { alarms, config } = build();
    const single = fleetAlarmSpecs(config, 'Fleet').filter((s) => !s.expression);
    expect(single.some((s) => 'StateMachineArn' in s.dimensions)).toBe(true);
    for (const spec of single) {
      const p = alarms.get(spec.alarmName)!.Properties;
      expect(p).toMatchObject({ Namespace: spec.namespace, MetricName: spec.metricName, Statistic: spec.statistic, Period: spec.periodSeconds });
      const dims = Object.fromEntries((p.Dimensions as Array<{ Name: string; Value: string }>).map((d) => [d.Name, d.Value]));
      expect(dims).toEqual(Object.fromEntries(Object.entries(spec.dimensions).map(([k, v]) => [k, k === 'StateMachineArn' ? SM : v])));
    }
  });

  it('metric-math alarms carry the expression and each input metric with the alarm period', () => {
    const { alarms, config } = build();
    const math = fleetAlarmSpecs(config, 'Fleet').filter((s) => s.expression);
    expect(math.length).toBeGreaterThan(0);
    for (const spec of math) {
      const metrics = alarms.get(spec.alarmName)!.Properties.Metrics as any[];
      expect(metrics.find((m) => m.Expression)).toMatchObject({ Expression: spec.expression!.text, ReturnData: true });
      for (const [id, m] of Object.entries(spec.expression!.metrics)) {
        expect(metrics.find((q) => q.Id === id)).toMatchObject({
          ReturnData: false,
          MetricStat: { Metric: { Namespace: m.namespace, MetricName: m.metricName }, Period: spec.periodSeconds, Stat: m.statistic },
        });
      }
    }
  });

  it('monitoring.perAgentAlarms: false leaves no per-agent alarm', () => {
    const { alarms } = build(fixtureConfig((c) => (c.monitoring = { ...c.monitoring, perAgentAlarms: false })));
    expect([...alarms.keys()].filter((n) => n.startsWith('Fleet-strategy-'))).toEqual([]);
    expect(alarms.size).toBe(
      fleetAlarmSpecs(
        fixtureConfig((c) => (c.monitoring = { ...c.monitoring, perAgentAlarms: false })),
        'Fleet',
      ).length + 1,
    );
  });

  it("the schedules' dead-letter-queue alarm notifies people only, and does not wait for the Master's permission", () => {
    const { alarms, topicRef, monitoring, stack } = build();
    const a = alarms.get('Fleet-ScheduleDlqNotEmpty')!;
    expect(a.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
    });
    expect(a.DependsOn ?? []).not.toContain(stack.getLogicalId(monitoring.masterInvokePermission));
  });

  it('the dashboard is named <stackName>-<region>-Fleet by default, or dashboardName; its alarm widget lists every alarm and extraAlarms', () => {
    const base = build();
    expect(flatten(base.dashboard.DashboardName)).toBe('Fleet-REGION-Fleet');
    const statusWidget = base.body.widgets.find((w) => w.type === 'alarm')!;
    expect(statusWidget.properties.title).toBe('Alarms');
    expect(statusWidget.properties.alarms).toHaveLength(base.alarms.size);

    const stack = new Stack(new App(), 'S');
    const extra = new cloudwatch.Alarm(stack, 'MasterErrors', {
      alarmName: 'Fleet-MasterErrors',
      metric: new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    new Monitoring(stack, 'Monitoring', {
      config: fixtureConfig(),
      stackName: 'Fleet',
      stateMachineArn: SM,
      master: lambda.Function.fromFunctionArn(stack, 'Master', MASTER),
      alertTopic: new sns.Topic(stack, 'Alerts'),
      scheduleDeadLetterQueue: new sqs.Queue(stack, 'Dlq'),
      extraAlarms: [extra],
      dashboardName: 'Ops',
    });
    const [d] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')).map((r) => r.Properties);
    expect(d.DashboardName).toBe('Ops');
    const alarmsShown = JSON.parse(flatten(d.DashboardBody)).widgets.find((w: any) => w.type === 'alarm').properties.alarms as string[];
    expect(alarmsShown).toHaveLength(base.alarms.size + 1);
    expect(alarmsShown.some((a) => a.includes(stack.getLogicalId(extra.node.defaultChild as cloudwatch.CfnAlarm)))).toBe(true);
  });

  it(`per-agent widgets: one series per agent up to ${DASHBOARD_EXPLICIT_AGENT_SERIES} agents, one SEARCH beyond`, () => {
    const widget = (b: ReturnType<typeof build>['body']) => b.widgets.find((w) => w.properties.title === 'Agent duration (ms)')!.properties.metrics as any[];
    const small = build();
    expect(small.config.agents.filter((a) => a.enabled)).toHaveLength(4);
    expect(widget(small.body)).toHaveLength(4);
    expect(JSON.stringify(widget(small.body))).not.toContain('SEARCH');
    const large = build(fixtureConfig(withAgents(DASHBOARD_EXPLICIT_AGENT_SERIES)), {});
    expect(widget(large.body)).toHaveLength(1);
    expect(widget(large.body)[0][0].expression).toMatch(/^SEARCH\('\{AgentFleet,agent,service\} MetricName="\w+" service="agent-fleet"', 'Maximum', 900\)$/);
  });

  it('monitoring.perAgentMetrics: the P&L and exposure widgets are there by default and gone when off', () => {
    const titles = (b: ReturnType<typeof build>['body']) => b.widgets.map((w) => w.properties.title as string);
    expect(titles(build().body)).toContain('Agent P&L (USD)');
    const off = build(fixtureConfig((c) => (c.monitoring = { ...c.monitoring, perAgentAlarms: false, perAgentMetrics: false })));
    expect(titles(off.body).filter((t) => t.startsWith('Agent P&L') || t.startsWith('Agent gross exposure'))).toEqual([]);
  });

  it(`over ${ALARM_STATUS_WIDGET_MAX_ALARMS} alarms the status widget shows the fleet and people-only alarms and says how many per-agent ones it left out`, () => {
    const { body, alarms, monitoring } = build(fixtureConfig(withAgents(32)));
    expect(alarms.size).toBeGreaterThan(ALARM_STATUS_WIDGET_MAX_ALARMS);
    const perAgent = [...monitoring.fleetAlarms.keys()].filter((n) => /^Fleet-(a\d+|strategy|sentiment|copybot|trading)-/.test(n)).length;
    const w = body.widgets.find((x) => x.type === 'alarm')!.properties;
    expect(w.alarms).toHaveLength(alarms.size - perAgent);
    expect(w.title).toBe(`Alarms (fleet and people-only; ${perAgent} per-agent alarms in the CloudWatch console)`);
  });
});

describe('assertResourceQuota', () => {
  const stackWith = (n: number) => {
    const stack = new Stack(new App(), 'Big');
    for (let i = 0; i < n; i++) new CfnResource(stack, `R${i}`, { type: 'AWS::SNS::Topic' });
    return stack;
  };
  it(`passes at ${MAX_STACK_RESOURCES} resources`, () => {
    expect(() => assertResourceQuota(stackWith(MAX_STACK_RESOURCES), fixtureConfig())).not.toThrow();
  });
  it('over the limit, names monitoring.perAgentAlarms when per-agent alarms are on, else how to share entries', () => {
    expect(() => assertResourceQuota(stackWith(MAX_STACK_RESOURCES + 1), fixtureConfig())).toThrow(
      /^Stack Big would have 501 resources, over CloudFormation's limit of 500 per stack \(AWS CloudFormation quotas\)\. 12 of them are the per-agent alarms of 4 agents: set monitoring\.perAgentAlarms: false/,
    );
    const off = fixtureConfig((c) => (c.monitoring = { ...c.monitoring, perAgentAlarms: false }));
    expect(() => assertResourceQuota(stackWith(MAX_STACK_RESOURCES + 1), off)).toThrow(/share an entry \(agents\[\]\.entry\) or split the fleet/);
  });
});
