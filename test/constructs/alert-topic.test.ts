/**
 * AlertTopic (lib/constructs/alert-topic.ts) on a bare Stack: a topic encrypted with a rotated
 * customer managed key that CloudWatch may use, SSL only, publishable by this stack's alarms only,
 * an e-mail subscription when given, else a synth warning that nobody hears a halt.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AlertTopic } from '../../lib/constructs/alert-topic';

const build = (props?: ConstructorParameters<typeof AlertTopic>[2]) => {
  const stack = new Stack(new App(), 'T');
  new AlertTopic(stack, 'Alerts', props);
  return { stack, template: Template.fromStack(stack) };
};

describe('AlertTopic', () => {
  it('encrypts the topic with a rotated customer managed key that CloudWatch may use', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow' }),
        ]),
      }),
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it("lets only alarms named '<prefix>-*' of this account publish, and denies non-SSL requests", () => {
    const { template } = build({ alarmNamePrefix: 'Fleet' });
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements.find((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toMatchObject({ Effect: 'Deny' });
    const allow = statements.find((s) => s.Sid === 'AllowThisStacksAlarmsToPublish');
    expect(allow).toMatchObject({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' });
    expect(JSON.stringify(allow.Condition.ArnLike['aws:SourceArn'])).toContain(':alarm:Fleet-*');
    expect(allow.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
  });

  it('subscribes the e-mail address when given, with no warning', () => {
    const { stack, template } = build({ email: 'ops@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('no subscriber'));
  });

  it('warns at synth when nobody is subscribed', () => {
    const { stack, template } = build();
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('The alert topic has no subscriber'));
  });
});
