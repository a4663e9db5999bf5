/**
 * CycleTriggers (lib/constructs/cycle-triggers.ts) on a bare Stack: one EventBridge rule per
 * cycle.triggers entry, named `<stack>-<trigger>` (at most 64 characters, EventBridge's limit),
 * starting the state machine with { source: event, trigger, group, eventId, eventTime }, 5 retries
 * within one cadence (at least 60 s), failed starts to the dead-letter queue.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CycleTriggers, triggerGroup } from '../../lib/constructs/cycle-triggers';
import { fixtureConfig } from '../fixtures/fleet';

const PATTERN = { source: ['com.example.earnings'], 'detail-type': ['Earnings released'] };

const build = (config = fixtureConfig((c) => (c.cycle = { ...c.cycle, triggers: [{ name: 'earnings', eventPattern: PATTERN }] })), stackName = 'Fleet') => {
  const stack = new Stack(new App(), 'T');
  const stateMachine = sfn.StateMachine.fromStateMachineArn(stack, 'Sm', 'arn:aws:states:us-east-1:111111111111:stateMachine:cycle');
  const deadLetterQueue = new sqs.Queue(stack, 'Dlq');
  const triggers = new CycleTriggers(stack, 'Triggers', { config, stackName, stateMachine, deadLetterQueue });
  return { stack, triggers, config, template: Template.fromStack(stack) };
};

describe('CycleTriggers', () => {
  it('makes no rule without cycle.triggers', () => {
    const { template, triggers } = build(fixtureConfig());
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(triggers.rules).toEqual([]);
  });

  it("one rule per trigger: its pattern, the cycle's input with the event id and time, retries and the dead-letter queue", () => {
    const { template, stack, config } = build();
    expect(triggerGroup(config, config.cycle.triggers[0])).toBe('default');
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'Fleet-earnings',
      State: 'ENABLED',
      EventPattern: PATTERN,
      Targets: [
        Match.objectLike({
          Arn: 'arn:aws:states:us-east-1:111111111111:stateMachine:cycle',
          RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 900 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [stack.getLogicalId(stack.node.findChild('Dlq').node.defaultChild as never), 'Arn'] } },
          InputTransformer: Match.objectLike({ InputPathsMap: { id: '$.id', time: '$.time' } }),
        }),
      ],
    });
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
    const input = JSON.parse(rule.Properties.Targets[0].InputTransformer.InputTemplate.replace('<id>', '"E"').replace('<time>', '"T"'));
    expect(input).toEqual({ source: 'event', trigger: 'earnings', group: 'default', eventId: 'E', eventTime: 'T' });
  });

  it('cuts rule names to 64 characters (EventBridge limit)', () => {
    const { template } = build(undefined, 'S'.repeat(70));
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rule.Properties.Name).toBe('S'.repeat(64));
  });

  it('a trigger with a group starts cycles for that group', () => {
    const config = fixtureConfig((c) => {
      c.agents[0].group = 'fast';
      c.cycle = { ...c.cycle, triggers: [{ name: 'news', eventPattern: PATTERN, group: 'fast' }] };
    });
    const { template } = build(config);
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rule.Properties.Description).toContain('"fast"');
    expect(rule.Properties.Targets[0].InputTransformer.InputTemplate).toContain('"group":"fast"');
  });
});
