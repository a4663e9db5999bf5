/**
 * The orchestrator stack as synthesized (bundling off): functions, tables, schedules, alarms, IAM,
 * outputs and cdk-nag. Assertions read the template JSON; nothing is snapshot-only.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetAlarmSpecs, masterDlqAlarmName, masterErrorsAlarmName, scheduleDlqAlarmName } from '../../lib/constructs/alarm-catalog';
import { cadenceExpression } from '../../lib/constructs/cycle-schedules';
import { OUTPUT_KEYS } from '../../lib/orchestrator-stack';
import { ENV } from '../../lambdas/shared/env';
import { TABLE_SPECS } from '../../lambdas/shared/table-specs';
import { asArray, flatten, policyStatements, resourcesOfType, synth, type Synthesized } from './template-helpers';

const REPO = join(__dirname, '..', '..');

describe('orchestrator stack', () => {
  let s: Synthesized;
  let masterId: string;
  beforeAll(() => {
    s = synth();
    masterId = s.stack.lambdaFunctions.find((f) => f.role === 'master')!.logicalId;
  });
  const fnById = (id: string): any => s.template.Resources[id];
  const envOf = (id: string): Record<string, any> => fnById(id).Properties.Environment.Variables;

  describe('functions', () => {
    it('every AWS::Lambda::Function is nodejs22.x on arm64 with its own log group (tracing: test/infra/tracing.test.ts)', () => {
      const fns = resourcesOfType(s.template, 'AWS::Lambda::Function');
      expect(fns.length).toBe(5 + s.config.agents.filter((a) => a.enabled).length); // supervisor, risk, Master, operator, order gateway
      for (const [, fn] of fns) {
        expect(fn.Properties.Runtime).toBe('nodejs22.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        const lg = fn.Properties.LoggingConfig.LogGroup.Ref as string;
        expect(s.template.Resources[lg].Type).toBe('AWS::Logs::LogGroup');
        expect(s.template.Resources[lg].Properties.RetentionInDays).toBeGreaterThan(0);
        expect(fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe('agent-fleet');
        expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('AgentFleet');
        expect(fn.Properties.Environment.Variables[ENV.metricsNamespace]).toBe('AgentFleet');
      }
    });

    it('lambdaFunctions maps every template function to an existing handler module', () => {
      const ids = resourcesOfType(s.template, 'AWS::Lambda::Function')
        .map(([id]) => id)
        .sort();
      expect(s.stack.lambdaFunctions.map((f) => f.logicalId).sort()).toEqual(ids);
      for (const f of s.stack.lambdaFunctions) expect(existsSync(join(REPO, f.entry))).toBe(true);
      expect(s.stack.lambdaFunctions.filter((f) => f.role === 'agent').map((f) => [f.agent, f.entry])).toEqual(
        s.config.agents.map((a) => [a.name, `lambdas/agents/${a.name}/handler.ts`]),
      );
      expect(new Set(s.stack.lambdaFunctions.map((f) => f.role))).toEqual(new Set(['supervisor', 'risk', 'master', 'operator', 'gateway', 'agent']));
    });

    it('hands the supervisor its registry as a file in its asset naming every agent function, and risk/agents the trading settings and market data path', () => {
      const sup = s.stack.lambdaFunctions.find((f) => f.role === 'supervisor')!;
      // Not an environment variable: the registry grows with the fleet and Lambda allows 4 KB of variables.
      expect(envOf(sup.logicalId)[ENV.supervisorSettings]).toBeUndefined();
      expect(envOf(sup.logicalId)[`${ENV.supervisorSettings}_FILE`]).toBe('/var/task/supervisor-settings.json');
      const settings = JSON.parse(readFileSync(sup.assetFiles!['supervisor-settings.json'], 'utf8'));
      for (const agent of s.stack.lambdaFunctions.filter((f) => f.role === 'agent')) {
        const name = s.template.Resources[agent.logicalId].Properties.FunctionName;
        expect(name).toBe(`AgentFleet-${agent.agent}`);
        expect(settings.agents.find((a: any) => a.name === agent.agent).functionArn).toBe(name);
      }
      expect(settings.maxWorkers).toBe(s.config.cycle.maxWorkers);
      for (const f of s.stack.lambdaFunctions.filter((x) => x.role === 'agent' || x.role === 'risk')) {
        const env = envOf(f.logicalId);
        expect(JSON.parse(flatten(env[ENV.tradingSettings])).limits.maxOrderNotionalUsd).toBe(s.config.risk.limits.maxOrderNotionalUsd);
        expect(env[ENV.marketDataFile]).toBe('/var/task/market-data.csv');
        for (const id of TABLE_SPECS.map((t) => t.id))
          expect(env[{ AgentState: ENV.agentStateTable, Control: ENV.controlTable, Cycles: ENV.cyclesTable, Ledger: ENV.ledgerTable }[id]]).toHaveProperty(
            'Ref',
          );
      }
    });

    it('gives the Master the kill switch environment, with an ALARM_POLICY for every fleet alarm that reaches it', () => {
      const env = envOf(masterId);
      expect(flatten(env[ENV.stateMachineArn])).toBe('arn:aws:states:REGION:ACCOUNT:stateMachine:AgentFleet-cycle');
      expect(env[ENV.scheduleNames]).toBe('AgentFleet/AgentFleet-default');
      expect(env[ENV.eventBusName]).toBe('default');
      expect(env[ENV.alertTopicArn]).toHaveProperty('Ref');
      expect(env[ENV.controlTable]).toHaveProperty('Ref');
      expect(env[ENV.agentStateTable]).toHaveProperty('Ref');
      const policy = JSON.parse(env[ENV.alarmPolicy]);
      for (const kind of ['CycleFailed', 'CycleTimedOut', 'NoSuccessfulCycle', 'RiskHalt', 'TooManyOpenBreakers', 'CriticalAgentFailed', 'FleetFailing']) {
        expect(policy[`AgentFleet-${kind}`]).toBe('halt');
      }
      expect(policy['AgentFleet-CycleSlow']).toBe('notify');
      // Per-agent alarms are left out (the Master treats unknown alarms as notify) so the variable does not grow with the fleet.
      expect(policy['AgentFleet-trading-LowSuccessRate']).toBeUndefined();
      expect(policy['*']).toBe('notify');
      delete policy['*'];
      const reachingMaster = resourcesOfType(s.template, 'AWS::CloudWatch::Alarm')
        .filter(([, a]) => (a.Properties.AlarmActions as any[]).some((x) => x['Fn::GetAtt']?.[0] === masterId))
        .map(([, a]) => a.Properties.AlarmName as string)
        .filter((name) => !/^AgentFleet-(strategy|sentiment|copybot|trading)-/.test(name));
      expect(Object.keys(policy).sort()).toEqual(reachingMaster.sort());
    });

    it("routes the Master's failed asynchronous invocations to an encrypted queue after retries", () => {
      const [[, cfg]] = resourcesOfType(s.template, 'AWS::Lambda::EventInvokeConfig');
      expect(cfg.Properties.FunctionName).toEqual({ Ref: masterId });
      expect(cfg.Properties.MaximumRetryAttempts).toBe(2);
      const dest = cfg.Properties.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0];
      expect(s.template.Resources[dest].Type).toBe('AWS::SQS::Queue');
    });
  });

  describe('tables', () => {
    it('creates the four tables with the shared key specs, on-demand, PITR, SSE and TTL on Cycles, retained', () => {
      const tables = resourcesOfType(s.template, 'AWS::DynamoDB::Table');
      expect(tables).toHaveLength(4);
      for (const spec of TABLE_SPECS) {
        const [, t] = tables.find(([id]) => id.startsWith(`Tables${spec.id}`))!;
        expect(t.Properties.KeySchema).toEqual([
          { AttributeName: spec.partitionKey, KeyType: 'HASH' },
          ...(spec.sortKey ? [{ AttributeName: spec.sortKey, KeyType: 'RANGE' }] : []),
        ]);
        expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
        expect(t.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
        expect(t.Properties.SSESpecification.SSEEnabled).toBe(true);
        expect(t.DeletionPolicy).toBe('Retain');
        if (spec.ttlAttribute) expect(t.Properties.TimeToLiveSpecification).toEqual({ AttributeName: spec.ttlAttribute, Enabled: true });
        else expect(t.Properties.TimeToLiveSpecification).toBeUndefined();
      }
    });
  });

  describe('schedules', () => {
    it('start the state machine through the universal target, named by the Scheduler execution id', () => {
      const [[, sm]] = resourcesOfType(s.template, 'AWS::StepFunctions::StateMachine');
      const schedules = resourcesOfType(s.template, 'AWS::Scheduler::Schedule');
      expect(schedules).toHaveLength(1);
      for (const [, sch] of schedules) {
        const p = sch.Properties;
        expect(flatten(p.Target.Arn)).toBe('arn:aws:scheduler:::aws-sdk:sfn:startExecution');
        const input = JSON.parse(flatten(p.Target.Input));
        expect(input.Name).toBe('<aws.scheduler.execution-id>');
        expect(input.StateMachineArn).toBe(`arn:aws:states:REGION:ACCOUNT:stateMachine:${sm.Properties.StateMachineName}`);
        const trigger = JSON.parse(input.Input);
        expect(trigger).toEqual({ source: 'schedule', scheduleName: p.Name, group: 'default', scheduledTime: '<aws.scheduler.scheduled-time>' });
        expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
        expect(p.ScheduleExpression).toBe(cadenceExpression(s.config.cycle.cadenceMinutes));
        expect(p.ScheduleExpression).toBe('cron(0/15 * * * ? *)');
        expect(p.ScheduleExpressionTimezone).toBe('UTC');
        const [[groupId]] = resourcesOfType(s.template, 'AWS::Scheduler::ScheduleGroup');
        expect(p.GroupName).toBe('AgentFleet');
        expect(sch.DependsOn).toEqual(expect.arrayContaining([groupId]));
        expect(p.Target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
        expect(s.template.Resources[p.Target.DeadLetterConfig.Arn['Fn::GetAtt'][0]].Type).toBe('AWS::SQS::Queue');
        const role = p.Target.RoleArn['Fn::GetAtt'][0];
        const start = policyStatements(s.template).filter(({ statement }) => asArray(statement.Action).includes('states:StartExecution'));
        expect(start).toHaveLength(1);
        expect(asArray(start[0].statement.Resource).map(flatten)).toEqual([input.StateMachineArn]);
        expect(s.template.Resources[start[0].owner].Properties.Roles).toEqual([{ Ref: role }]);
      }
      const [[, group]] = resourcesOfType(s.template, 'AWS::Scheduler::ScheduleGroup');
      expect(group.Properties.Name).toBe('AgentFleet');
    });

    it('aligns cadences that divide an hour or a day to the clock, otherwise uses rate()', () => {
      expect(cadenceExpression(15)).toBe('cron(0/15 * * * ? *)');
      expect(cadenceExpression(120)).toBe('cron(0 0/2 * * ? *)');
      expect(cadenceExpression(1440)).toBe('cron(0 0 * * ? *)');
      expect(cadenceExpression(7)).toBe('rate(7 minutes)');
      expect(cadenceExpression(90)).toBe('rate(90 minutes)');
    });
  });

  describe('alarms', () => {
    const exempt = ['AgentFleet-MasterErrors', 'AgentFleet-MasterDlqNotEmpty', 'AgentFleet-ScheduleDlqNotEmpty'];

    it('every alarm except the Master-errors and dead-letter-queue alarms reaches the Master; all notify the topic', () => {
      expect(exempt).toEqual([masterErrorsAlarmName('AgentFleet'), masterDlqAlarmName('AgentFleet'), scheduleDlqAlarmName('AgentFleet')]);
      const alarms = resourcesOfType(s.template, 'AWS::CloudWatch::Alarm');
      const names = alarms.map(([, a]) => a.Properties.AlarmName as string);
      expect(names.sort()).toEqual([...fleetAlarmSpecs(s.config, 'AgentFleet').map((x) => x.alarmName), ...exempt].sort());
      const [[topicId]] = resourcesOfType(s.template, 'AWS::SNS::Topic');
      for (const [, a] of alarms) {
        const actions = a.Properties.AlarmActions as any[];
        const toMaster = actions.some((x) => x['Fn::GetAtt']?.[0] === masterId && x['Fn::GetAtt'][1] === 'Arn');
        expect({ name: a.Properties.AlarmName, toMaster }).toEqual({ name: a.Properties.AlarmName, toMaster: !exempt.includes(a.Properties.AlarmName) });
        expect(actions).toContainEqual({ Ref: topicId });
        // Single-metric alarms, except NoSuccessfulCycle (metric math the local evaluator supports).
        if (a.Properties.AlarmName === 'AgentFleet-NoSuccessfulCycle') expect(a.Properties.Metrics).toHaveLength(3);
        else expect(typeof a.Properties.MetricName).toBe('string');
      }
      const perms = resourcesOfType(s.template, 'AWS::Lambda::Permission').filter(
        ([, p]) => p.Properties.Principal === 'lambda.alarms.cloudwatch.amazonaws.com',
      );
      expect(perms).toHaveLength(1);
      expect(perms[0][1].Properties.FunctionName).toEqual({ 'Fn::GetAtt': [masterId, 'Arn'] });
      expect(flatten(perms[0][1].Properties.SourceArn)).toBe('arn:aws:cloudwatch:REGION:ACCOUNT:alarm:AgentFleet-*');
    });

    it('uses the metric catalog, the R-ALERTS thresholds and one-cadence periods', () => {
      const byName = new Map(resourcesOfType(s.template, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.Properties.AlarmName, a.Properties]));
      const cycleFailed = byName.get('AgentFleet-CycleFailed')!;
      expect(cycleFailed).toMatchObject({
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Threshold: 1,
        Period: 900,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(flatten(cycleFailed.Dimensions[0].Value)).toBe('arn:aws:states:REGION:ACCOUNT:stateMachine:AgentFleet-cycle');
      const noSuccess = byName.get('AgentFleet-NoSuccessfulCycle')!;
      expect(noSuccess).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
      });
      const queries = noSuccess.Metrics as any[];
      expect(queries.find((q) => q.Expression)).toMatchObject({ Expression: 'IF(FILL(succeeded, 0) >= 1, 0, FILL(started, 0))' });
      expect(
        queries
          .filter((q) => q.MetricStat)
          .map((q) => [q.Id, q.MetricStat.Metric.MetricName, q.MetricStat.Period, q.MetricStat.Stat])
          .sort(),
      ).toEqual([
        ['started', 'ExecutionsStarted', 900, 'Sum'],
        ['succeeded', 'ExecutionsSucceeded', 900, 'Sum'],
      ]);
      expect(byName.get('AgentFleet-FleetFailing')).toMatchObject({
        Namespace: 'AgentFleet',
        MetricName: 'FailedAgentFraction',
        Statistic: 'Minimum',
        Threshold: 0.5,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Period: 900,
      });
      expect(byName.get('AgentFleet-TooManyOpenBreakers')).toMatchObject({
        MetricName: 'OpenBreakerFraction',
        Statistic: 'Maximum',
        Threshold: s.config.supervisor.maxOpenBreakerFraction,
      });
      expect(byName.get('AgentFleet-CycleSlow')).toMatchObject({ MetricName: 'CycleDurationRatio', Threshold: 2, ComparisonOperator: 'GreaterThanThreshold' });
      expect(byName.get('AgentFleet-RiskHalt')).toMatchObject({ MetricName: 'RiskVerdictHalt', Statistic: 'Maximum', Threshold: 1 });
      expect(byName.get('AgentFleet-CriticalAgentFailed')).toMatchObject({ MetricName: 'CriticalAgentFailures', Statistic: 'Sum', Threshold: 1 });
      const low = byName.get('AgentFleet-copybot-LowSuccessRate')!;
      expect(low).toMatchObject({ MetricName: 'AgentSuccessRate', Statistic: 'Minimum', Threshold: 80, ComparisonOperator: 'LessThanThreshold' });
      expect(low.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'service', Value: 'agent-fleet' },
          { Name: 'agent', Value: 'copybot' },
        ]),
      );
      expect(byName.get('AgentFleet-trading-FailureStreak')).toMatchObject({ MetricName: 'AgentConsecutiveFailures', Threshold: 5 });
      expect(byName.get('AgentFleet-sentiment-Unhealthy')).toMatchObject({ MetricName: 'AgentUnhealthyCycles', Threshold: 3 });
      expect(byName.get('AgentFleet-MasterErrors')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1 });
    });

    it('shows every alarm on the dashboard', () => {
      const [[, dash]] = resourcesOfType(s.template, 'AWS::CloudWatch::Dashboard');
      const body = JSON.parse(flatten(dash.Properties.DashboardBody));
      const alarmWidget = body.widgets.find((w: any) => w.properties.alarms);
      const alarmIds = resourcesOfType(s.template, 'AWS::CloudWatch::Alarm').map(([id]) => `<GetAtt:${id}.Arn>`);
      expect([...alarmWidget.properties.alarms].sort()).toEqual(alarmIds.sort());
      const titles = body.widgets.map((w: any) => w.properties.title);
      expect(titles).toEqual(
        expect.arrayContaining([
          'Cycle outcome (executions)',
          'Agent success rate (%)',
          'Agent duration (ms)',
          'Agent retries',
          'Circuit breakers OPEN (1 = OPEN)',
          'Risk verdicts',
        ]),
      );
      expect(flatten(dash.Properties.DashboardName)).toBe('AgentFleet-REGION-Fleet');
    });
  });

  describe('security', () => {
    it('no IAM statement allows Action "*" or a service wildcard, and no *FullAccess managed policy is attached', () => {
      const statements = policyStatements(s.template);
      expect(statements.length).toBeGreaterThan(10);
      for (const { statement } of statements) {
        for (const action of asArray<string>(statement.Action)) {
          expect(action).not.toBe('*');
          expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
        }
      }
      for (const [, role] of resourcesOfType(s.template, 'AWS::IAM::Role')) {
        for (const arn of role.Properties.ManagedPolicyArns ?? []) expect(flatten(arn)).not.toMatch(/FullAccess/);
      }
    });

    it('Resource "*" appears only for actions without resource-level permissions (X-Ray, log delivery)', () => {
      for (const { statement } of policyStatements(s.template)) {
        if (!asArray(statement.Resource).includes('*')) continue;
        for (const action of asArray<string>(statement.Action))
          expect(action).toMatch(
            /^(xray:|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))/,
          );
      }
    });

    it('grants the Master exactly its kill switch actions, each on its own resource', () => {
      const master = s.stack.lambdaFunctions.find((f) => f.role === 'master')!;
      const roleId = fnById(master.logicalId).Properties.Role['Fn::GetAtt'][0];
      const mine = policyStatements(s.template).filter(({ owner }) => s.template.Resources[owner].Properties.Roles?.some((r: any) => r.Ref === roleId));
      const find = (action: string): any => mine.find(({ statement }) => asArray(statement.Action).includes(action))?.statement;
      expect(asArray(find('states:StopExecution').Resource).map(flatten)).toEqual(['arn:aws:states:REGION:ACCOUNT:execution:AgentFleet-cycle:*']);
      expect(asArray(find('states:ListExecutions').Resource).map(flatten)).toEqual(['arn:aws:states:REGION:ACCOUNT:stateMachine:AgentFleet-cycle']);
      expect(asArray(find('scheduler:UpdateSchedule').Resource).map(flatten)).toEqual([
        'arn:aws:scheduler:REGION:ACCOUNT:schedule/AgentFleet/AgentFleet-default',
      ]);
      const [[schedRoleId]] = resourcesOfType(s.template, 'AWS::IAM::Role').filter(([, r]) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      );
      expect(asArray(find('iam:PassRole').Resource)).toEqual([{ 'Fn::GetAtt': [schedRoleId, 'Arn'] }]);
      expect(asArray(find('events:PutEvents').Resource).map(flatten)).toEqual(['arn:aws:events:REGION:ACCOUNT:event-bus/default']);
      expect(asArray(find('sns:Publish').Resource)).toEqual([{ Ref: resourcesOfType(s.template, 'AWS::SNS::Topic')[0][0] }]);
      expect(find('dynamodb:PutItem')).toBeDefined();
    });

    it('encrypts the topic and queues and enforces SSL on them', () => {
      const [[, topic]] = resourcesOfType(s.template, 'AWS::SNS::Topic');
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
      for (const [, q] of resourcesOfType(s.template, 'AWS::SQS::Queue')) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
      const policies = [...resourcesOfType(s.template, 'AWS::SQS::QueuePolicy'), ...resourcesOfType(s.template, 'AWS::SNS::TopicPolicy')];
      expect(policies).toHaveLength(3);
      for (const [, p] of policies) {
        expect(p.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    });

    it('state machine logs ALL with execution data (X-Ray only with monitoring.tracing)', () => {
      const [[, sm]] = resourcesOfType(s.template, 'AWS::StepFunctions::StateMachine');
      expect(sm.Properties.StateMachineType).toBe('STANDARD');
      expect(sm.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
      expect(sm.Properties.TracingConfiguration?.Enabled ?? false).toBe(false);
    });

    it('passes the AwsSolutions and Serverless cdk-nag packs with zero unacknowledged findings, each acknowledgement with a reason', () => {
      for (const pack of [new AwsSolutionsChecks(s.app), new ServerlessChecks(s.app)]) {
        const report = pack.validateScope(s.stack);
        const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? r.resourceLogicalId}`));
        expect({ pack: pack.readPackName, findings }).toEqual({ pack: pack.readPackName, findings: [] });
      }
      const acks = s.stack.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data as any));
      expect(acks.length).toBeGreaterThan(5);
      for (const a of acks) for (const reason of Object.values(a)) expect(String(reason).length).toBeGreaterThan(40);
    });
  });

  it('exports the outputs the ops CLI reads', () => {
    expect(Object.keys(s.template.Outputs).sort()).toEqual([...OUTPUT_KEYS].sort());
    expect(s.template.Outputs.ScheduleNames.Value).toBe('AgentFleet/AgentFleet-default');
    expect(s.template.Outputs.MasterFunctionName.Value).toEqual({ Ref: masterId });
  });

  it('follows retainData, cadence, groups, timezone and alertEmail', () => {
    const v = synth(
      (c) => ({
        ...c,
        retainData: false,
        cycle: { cadenceMinutes: 60, timezone: 'America/New_York' },
        agents: [
          ...c.agents.map((a) => (a.name === 'copybot' ? { ...a, group: 'rebalance' } : a)),
          { name: 'idle', enabled: false, group: 'dormant', entry: 'lambdas/agents/strategy/handler.ts' },
        ],
      }),
      { alertEmail: 'ops@example.com' },
    );
    for (const [, t] of resourcesOfType(v.template, 'AWS::DynamoDB::Table')) expect(t.DeletionPolicy).toBe('Delete');
    const schedules = resourcesOfType(v.template, 'AWS::Scheduler::Schedule').map(([, x]) => x.Properties);
    expect(schedules.map((p) => p.Name).sort()).toEqual(['AgentFleet-default', 'AgentFleet-rebalance']);
    for (const p of schedules) {
      expect(p.ScheduleExpression).toBe('cron(0 0/1 * * ? *)');
      expect(p.ScheduleExpressionTimezone).toBe('America/New_York');
    }
    const masterEnv = v.template.Resources[v.stack.lambdaFunctions.find((f) => f.role === 'master')!.logicalId].Properties.Environment.Variables;
    expect(masterEnv[ENV.scheduleNames].split(',').sort()).toEqual(['AgentFleet/AgentFleet-default', 'AgentFleet/AgentFleet-rebalance']);
    const alarms = new Map(resourcesOfType(v.template, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.Properties.AlarmName, a.Properties]));
    expect(alarms.get('AgentFleet-CycleFailed').Period).toBe(3600);
    expect(alarms.get('AgentFleet-NoSuccessfulCycle').Metrics.find((q: any) => q.MetricStat).MetricStat.Period).toBe(3600);
    // A disabled agent gets no function, no schedule and no alarms.
    expect(v.stack.lambdaFunctions.map((f) => f.agent).filter(Boolean)).not.toContain('idle');
    expect(resourcesOfType(v.template, 'AWS::Lambda::Function')).toHaveLength(5 + 4);
    expect([...alarms.keys()].filter((n) => n.includes('idle'))).toEqual([]);
    const subs = resourcesOfType(v.template, 'AWS::SNS::Subscription');
    expect(subs.map(([, x]) => [x.Properties.Protocol, x.Properties.Endpoint])).toEqual([['email', 'ops@example.com']]);
  });
});
