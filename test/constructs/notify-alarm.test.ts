/**
 * notifyPeopleAlarm (lib/constructs/notify-alarm.ts) on a bare Stack: one alarm with the given
 * name, description and metric, firing on the first datapoint >= 1 (one evaluation period), missing
 * data not breaching, the alert topic as its only action (no OK or INSUFFICIENT_DATA action).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { notifyPeopleAlarm } from '../../lib/constructs/notify-alarm';

const build = () => {
  const stack = new Stack(new App(), 'S');
  const topic = new sns.Topic(stack, 'Alerts');
  const metric = new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensionsMap: { FunctionName: 'master' },
    period: Duration.minutes(1),
    statistic: 'Sum',
  });
  const alarm = notifyPeopleAlarm(stack, 'MasterErrors', { alarmName: 'Fleet-MasterErrors', description: 'The Master failed.', metric, topic });
  return { stack, topic, alarm, template: Template.fromStack(stack) };
};

describe('notifyPeopleAlarm', () => {
  it('fires on one datapoint >= 1 of the given metric, missing data not breaching', () => {
    const { template } = build();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Fleet-MasterErrors',
      AlarmDescription: 'The Master failed.',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: 'master' }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it("the topic is the alarm's only action: nothing invokes the Master, no OK or INSUFFICIENT_DATA action", () => {
    const { stack, topic, alarm, template } = build();
    const [props] = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties);
    expect(props.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
    expect(props.OKActions).toBeUndefined();
    expect(props.InsufficientDataActions).toBeUndefined();
    expect(alarm).toBeInstanceOf(cloudwatch.Alarm);
    expect(alarm.node.scope).toBe(stack);
  });
});
