/**
 * KillSwitch (lib/constructs/kill-switch.ts) on a bare Stack, bundling off: the Master and the
 * operator function with one environment; the Master's reserved concurrency (5 by default), its
 * asynchronous invocations (2 retries, 1 h) failing to an encrypted SSL-only queue; the two alarms
 * that notify people only; least-privilege grants, each on a single resource; the operator's
 * function URL with AWS_IAM auth and no alarm permission; the optional ledger, trading settings,
 * resume policy and market data; `reapplyHaltOnDeploy`; every synth error.
 */
import { App, CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ENV } from '../../lambdas/shared/env';
import { MARKET_DATA_PATH_IN_LAMBDA } from '../../lib/constructs/agent-function';
import { KillSwitch, type KillSwitchProps } from '../../lib/constructs/kill-switch';
import { flatten } from '../infra/template-helpers';
import { Construct } from 'constructs';

const SM = 'arn:aws:states:us-east-1:111111111111:stateMachine:Fleet-cycle';
const EXECUTIONS = 'arn:aws:states:us-east-1:111111111111:execution:Fleet-cycle:*';
const SCHEDULE = 'arn:aws:scheduler:us-east-1:111111111111:schedule/Fleet/Fleet-default';

type Extra = Partial<KillSwitchProps> | ((siblings: { ledgerTable: dynamodb.ITable }) => Partial<KillSwitchProps>);

const build = (extra: Extra = {}) => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
  const table = (id: string) => new dynamodb.Table(stack, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const sibling = {
    controlTable: table('Control'),
    agentStateTable: table('AgentState'),
    ledgerTable: table('Ledger'),
    alertTopic: new sns.Topic(stack, 'Alerts'),
    schedulerRole: new iam.Role(stack, 'SchedulerRole', { assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com') }),
  };
  const ks = new KillSwitch(stack, 'KillSwitch', {
    stackName: 'Fleet',
    controlTable: sibling.controlTable,
    agentStateTable: sibling.agentStateTable,
    stateMachineArn: SM,
    executionArnPattern: EXECUTIONS,
    scheduleNames: 'Fleet/Fleet-default',
    scheduleArns: [SCHEDULE],
    schedulerRole: sibling.schedulerRole,
    alertTopic: sibling.alertTopic,
    alarmPolicy: { 'Fleet-CycleFailed': 'halt' },
    ...(typeof extra === 'function' ? extra(sibling) : extra),
  });
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnResource);
  const masterId = id(ks.fn);
  const operatorId = id(ks.operator.fn);
  // Synthesized on first use, so a test may add to the tree first (reapplyHaltOnDeploy).
  let synthesized: Template | undefined;
  const tpl = () => (synthesized ??= Template.fromStack(stack));
  const props = (logicalId: string) => tpl().toJSON().Resources[logicalId].Properties;
  /** Statements of the policies attached to a function's role, flattened to strings. */
  const statements = (fnId: string) => {
    const roleId = props(fnId).Role['Fn::GetAtt'][0];
    return Object.values(tpl().findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as any[])
      .map((s) => ({ ...s, Action: [s.Action].flat(), Resource: [s.Resource].flat().map(flatten) }));
  };
  return {
    stack,
    ks,
    sibling,
    get template() {
      return tpl();
    },
    id,
    masterId,
    operatorId,
    props,
    statements,
  };
};
const attempt = (extra: Extra) => () => build(extra);

describe('KillSwitch', () => {
  it('the Master and the operator function share one environment: tables, state machine, schedules, topic, bus, alarm policy', () => {
    const { masterId, operatorId, props, sibling, id, template } = build();
    template.resourceCountIs('AWS::Lambda::Function', 2);
    const env = props(masterId).Environment.Variables;
    expect(env).toMatchObject({
      [ENV.controlTable]: { Ref: id(sibling.controlTable) },
      [ENV.agentStateTable]: { Ref: id(sibling.agentStateTable) },
      [ENV.stateMachineArn]: SM,
      [ENV.scheduleNames]: 'Fleet/Fleet-default',
      [ENV.alertTopicArn]: { Ref: id(sibling.alertTopic) },
      [ENV.eventBusName]: 'default',
      [ENV.alarmPolicy]: JSON.stringify({ 'Fleet-CycleFailed': 'halt' }),
    });
    // Optional settings are absent by default.
    for (const k of [ENV.ledgerTable, ENV.tradingSettings, ENV.resumePolicy, ENV.marketDataFile]) expect(env[k]).toBeUndefined();
    expect(props(operatorId).Environment.Variables).toEqual(env);
    expect(props(masterId).Timeout).toBe(120);
    expect(props(masterId).Description).toMatch(/^Master \(kill switch\)/);
  });

  it('the Master reserves 5 executions by default, the operator function none; 0 reserves none, 3 reserves 3', () => {
    const base = build();
    expect(base.props(base.masterId).ReservedConcurrentExecutions).toBe(5);
    expect(base.props(base.operatorId).ReservedConcurrentExecutions).toBeUndefined();
    const none = build({ reservedConcurrency: 0 });
    expect(none.props(none.masterId).ReservedConcurrentExecutions).toBeUndefined();
    const three = build({ reservedConcurrency: 3 });
    expect(three.props(three.masterId).ReservedConcurrentExecutions).toBe(3);
  });

  it("the Master's asynchronous invocations: 2 retries within 1 h, then the failure queue (SQS-encrypted, SSL only, 14 days)", () => {
    const { template, ks, id, masterId } = build();
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: masterId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(ks.failureQueue), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('asyncRetryAttempts overrides the retries', () => {
    build({ asyncRetryAttempts: 0 }).template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it("two alarms notify the topic only: the Master's errors and a non-empty failure queue", () => {
    const { template, id, sibling, masterId, ks } = build();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    const topic = [{ Ref: id(sibling.alertTopic) }];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Fleet-MasterErrors',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: masterId } }],
      Threshold: 1,
      AlarmActions: topic,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Fleet-MasterDlqNotEmpty',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(ks.failureQueue), 'QueueName'] } }],
      AlarmActions: topic,
    });
  });

  it('grants, each on a single resource, to both functions; no wildcard action', () => {
    const { statements, masterId, operatorId, id, sibling } = build();
    for (const fnId of [masterId, operatorId]) {
      const st = statements(fnId);
      const on = (action: string) => st.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource);
      expect(on('states:ListExecutions')).toEqual([SM]);
      expect(on('states:StopExecution')).toEqual([EXECUTIONS]);
      expect(on('scheduler:UpdateSchedule')).toEqual([SCHEDULE]);
      expect(on('scheduler:GetSchedule')).toEqual([SCHEDULE]);
      expect(on('iam:PassRole')).toEqual([`<GetAtt:${id(sibling.schedulerRole)}.Arn>`]);
      expect(on('sns:Publish')).toEqual([`<Ref:${id(sibling.alertTopic)}>`]);
      expect(on('events:PutEvents')).toEqual(['arn:aws:events:REGION:ACCOUNT:event-bus/default']);
      expect(on('dynamodb:PutItem')).toEqual([`<GetAtt:${id(sibling.controlTable)}.Arn>`]);
      expect(on('dynamodb:GetItem').sort()).toEqual([`<GetAtt:${id(sibling.agentStateTable)}.Arn>`, `<GetAtt:${id(sibling.controlTable)}.Arn>`].sort());
      // No ledger by default: no grant on it.
      expect(st.flatMap((s) => s.Resource).some((r) => r.includes(id(sibling.ledgerTable)))).toBe(false);
      for (const s of st) expect(s.Action.filter((a: string) => a === '*' || a.endsWith(':*'))).toEqual([]);
    }
  });

  it('no schedule ARNs: no scheduler statement', () => {
    const { statements, masterId } = build({ scheduleArns: [] });
    expect(statements(masterId).filter((s) => s.Action.some((a: string) => a.startsWith('scheduler:')))).toEqual([]);
  });

  it('with a ledger: its name, the trading settings and the resume policy in the environment, and the working-order grants', () => {
    const { statements, masterId, operatorId, props, id, sibling } = build(({ ledgerTable }) => ({
      ledgerTable,
      tradingSettings: '{"startingCashUsd":1000000}',
      resumePolicy: { coolDownSeconds: 600, allowDirectToNormal: true },
    }));
    expect(props(masterId).Environment.Variables[ENV.tradingSettings]).toBe('{"startingCashUsd":1000000}');
    expect(JSON.parse(props(operatorId).Environment.Variables[ENV.resumePolicy])).toEqual({ coolDownSeconds: 600, allowDirectToNormal: true });
    expect(props(masterId).Environment.Variables[ENV.ledgerTable]).toEqual({ Ref: id(sibling.ledgerTable) });
    for (const fnId of [masterId, operatorId]) {
      const ledgerActions = statements(fnId).filter((s) => s.Resource.includes(`<GetAtt:${id(sibling.ledgerTable)}.Arn>`));
      expect(ledgerActions).toHaveLength(1);
      expect(ledgerActions[0].Action.sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    }
  });

  it('the operator function has an AWS_IAM function URL and no resource-based permission (no alarm may invoke it)', () => {
    const { template, operatorId } = build();
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [operatorId, 'Arn'] } });
    template.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  it('marketDataFile goes to the operator function only; entry and logRemovalPolicy override the defaults', () => {
    const { props, masterId, operatorId, template, ks } = build({
      marketDataFile: 'data/market/dowjones30-daily.csv',
      entry: 'lambdas/master/operator.ts',
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    expect(props(operatorId).Environment.Variables[ENV.marketDataFile]).toBe(MARKET_DATA_PATH_IN_LAMBDA);
    expect(props(masterId).Environment.Variables[ENV.marketDataFile]).toBeUndefined();
    expect(ks.function.entry).toBe('lambdas/master/operator.ts');
    for (const lg of Object.values(template.findResources('AWS::Logs::LogGroup'))) expect(lg.DeletionPolicy).toBe('Delete');
    const base = build();
    expect(base.ks.function.entry).toBe('lambdas/master/handler.ts');
    for (const lg of Object.values(base.template.findResources('AWS::Logs::LogGroup'))) expect(lg.DeletionPolicy).toBe('Retain');
  });

  it('reapplyHaltOnDeploy: a Custom::ReapplyHalt served by the Master, after the schedules, with a fingerprint of their properties', () => {
    const fingerprint = (scheduleValue: string) => {
      const { stack, ks, masterId } = build();
      // A schedule as an L2 construct: its CloudFormation resource is its default child.
      const wrapper = new Construct(stack, 'Schedule');
      const schedule = new CfnResource(wrapper, 'Resource', { type: 'AWS::Scheduler::Schedule', properties: { Name: 'Fleet-default', State: scheduleValue } });
      ks.reapplyHaltOnDeploy([wrapper]);
      const resources = Template.fromStack(stack).findResources('Custom::ReapplyHalt');
      expect(Object.keys(resources)).toHaveLength(1);
      const [cr] = Object.values(resources);
      expect(cr.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [masterId, 'Arn'] });
      expect(cr.DependsOn).toEqual([stack.getLogicalId(schedule)]);
      expect(cr.Properties.SchedulesFingerprint).toMatch(/^[0-9a-f]{32}$/);
      return cr.Properties.SchedulesFingerprint as string;
    };
    expect(fingerprint('ENABLED')).toBe(fingerprint('ENABLED'));
    expect(fingerprint('ENABLED')).not.toBe(fingerprint('DISABLED'));
  });

  describe('synth errors', () => {
    it('reservedConcurrency not a whole number >= 0', () => {
      for (const r of [-1, 1.5]) expect(attempt({ reservedConcurrency: r })).toThrow(`KillSwitch reservedConcurrency must be a whole number >= 0, got ${r}`);
    });
    it('asyncRetryAttempts outside 0..2 or not whole (Lambda limit)', () => {
      for (const r of [-1, 3, 1.5]) {
        expect(attempt({ asyncRetryAttempts: r })).toThrow(`KillSwitch asyncRetryAttempts must be a whole number from 0 to 2 (Lambda limit), got ${r}`);
      }
    });
    it('an entry that does not exist', () => {
      expect(attempt({ entry: 'lambdas/master/nope.ts' })).toThrow('Lambda entry lambdas/master/nope.ts does not exist (function Master)');
    });
  });
});
