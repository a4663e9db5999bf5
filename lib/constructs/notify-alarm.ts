/**
 * An alarm that only notifies people: it fires on the first datapoint at or above 1 and publishes
 * to the alert topic. Used for what the Master cannot handle itself (its own errors, its failed
 * invocations, schedules that could not start a cycle). Missing data is not breaching: no errors,
 * no messages.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** Props of {@link notifyPeopleAlarm}. */
export interface NotifyPeopleAlarmProps {
  /** Physical alarm name (`<stackName>-<Kind>`). */
  readonly alarmName: string;
  /** What happened and who is told, shown in the console and the notification. */
  readonly description: string;
  /** The metric, with its period and statistic. */
  readonly metric: cloudwatch.IMetric;
  /** The operators' topic. */
  readonly topic: sns.ITopic;
}

/** Creates the alarm (threshold >= 1, one evaluation period) with the topic as its only action. */
export function notifyPeopleAlarm(scope: Construct, id: string, props: NotifyPeopleAlarmProps): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.description,
    metric: props.metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new cwActions.SnsAction(props.topic));
  return alarm;
}
