/**
 * CycleSchedules (lib/constructs/cycle-schedules.ts) on a bare Stack: a schedule group named after
 * the stack (deleted with it), one schedule per group of enabled agents at the cadence in the
 * config's timezone, starting the state machine through a role Scheduler assumes, failed starts to
 * an encrypted dead-letter queue; names at most 64 characters (Scheduler's limit).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { cadenceExpression, CycleSchedules, MAX_SCHEDULE_NAME, scheduleName } from '../../lib/constructs/cycle-schedules';
import { fixtureConfig } from '../fixtures/fleet';

const SM = 'arn:aws:states:us-east-1:111111111111:stateMachine:cycle';

const build = (config = fixtureConfig(), extra: { retryAttempts?: number; maxEventAge?: Duration } = {}) => {
  const stack = new Stack(new App(), 'T');
  const schedules = new CycleSchedules(stack, 'Schedules', { config, stackName: 'Fleet', stateMachineArn: SM, ...extra });
  return { stack, schedules, template: Template.fromStack(stack) };
};

describe('CycleSchedules', () => {
  it('one schedule for the fixture fleet (one group): cron at the cadence in UTC, flexible window off, deleted group', () => {
    const { template, schedules } = build();
    expect(schedules.refs).toEqual([{ group: 'default', groupName: 'Fleet', scheduleName: 'Fleet-default' }]);
    template.hasResource('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Delete', Properties: { Name: 'Fleet' } });
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'Fleet-default',
      GroupName: 'Fleet',
      ScheduleExpression: 'cron(0/15 * * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 900 } }),
    });
  });

  it("the target's input starts an execution named by Scheduler's execution id, with source, schedule, group and scheduled time", () => {
    const { template } = build();
    const [s] = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    const input = JSON.parse(s.Properties.Target.Input);
    expect(input).toMatchObject({ StateMachineArn: SM, Name: '<aws.scheduler.execution-id>' });
    expect(JSON.parse(input.Input)).toEqual({
      source: 'schedule',
      scheduleName: 'Fleet-default',
      group: 'default',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
  });

  it('the role is assumed by Scheduler of this account only and may start this state machine only', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    expect(statements.find((st) => st.Action === 'states:StartExecution')).toMatchObject({ Effect: 'Allow', Resource: SM });
  });

  it('one schedule per group of enabled agents; a disabled agent adds none; retries and event age follow the props', () => {
    const config = fixtureConfig((c) => {
      c.agents[0].group = 'fast';
      c.agents.push({ name: 'idle', enabled: false, group: 'never', entry: 'lambdas/agents/strategy/handler.ts' });
    });
    const { schedules, template } = build(config, { retryAttempts: 2, maxEventAge: Duration.minutes(5) });
    expect(schedules.refs.map((r) => r.group)).toEqual(['fast', 'default']);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 } }),
    });
  });

  it('the dead-letter queue is SQS-encrypted, SSL only, keeps 14 days', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('scheduleName and cadenceExpression', () => {
  it('a long name is cut to 64 characters with a hash, so two long groups with one prefix stay apart', () => {
    const a = scheduleName('S'.repeat(50), 'rebalance-portfolio-group-one');
    const b = scheduleName('S'.repeat(50), 'rebalance-portfolio-group-two');
    expect(a).toHaveLength(MAX_SCHEDULE_NAME);
    expect(a).not.toBe(b);
    expect(scheduleName('Fleet', 'default')).toBe('Fleet-default');
  });
  it('cron when the cadence divides an hour or a day, else rate', () => {
    expect(cadenceExpression(15)).toBe('cron(0/15 * * * ? *)');
    expect(cadenceExpression(120)).toBe('cron(0 0/2 * * ? *)');
    expect(cadenceExpression(1440)).toBe('cron(0 0 * * ? *)');
    expect(cadenceExpression(7)).toBe('rate(7 minutes)');
  });
});
