/**
 * The Master (kill switch, FIA "kill switch" / SEC 15c3-5 spirit): the Lambda that sets the halt
 * flag, disables every schedule, stops running executions, notifies and verifies. Invoked by
 * alarms (asynchronously), by the cycle (in-band halt) and by operators.
 *
 * Also here: the Master's on-failure queue for asynchronous invocations that failed after their
 * retries, the alarm when that queue has messages, and the alarm on the Master's own errors. Both
 * alarms notify people through the SNS topic only: the Master cannot be trusted to handle an alarm
 * about itself.
 *
 * Least privilege, every grant on a single resource: Control table read/write, AgentState read,
 * `states:ListExecutions` on the state machine, `states:StopExecution` on its
 * executions (`execution:<name>:*`), `scheduler:GetSchedule`/`UpdateSchedule` on the stack's schedules,
 * `iam:PassRole` on the Scheduler role (UpdateSchedule re-sends the target), `sns:Publish` on the
 * topic, `events:PutEvents` on the default bus.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { notifyPeopleAlarm } from './notify-alarm';
import { ENV } from '../../lambdas/shared/env';
import { FleetFunction } from './agent-function';
import { masterDlqAlarmName, masterErrorsAlarmName, type AlarmPolicy } from './alarm-catalog';

/** Props of {@link KillSwitch}. */
export interface KillSwitchProps {
  /** Stack name, prefix of the alarm names. */
  readonly stackName: string;
  /** Handler module, repo-relative. Default `lambdas/master/handler.ts`. */
  readonly entry?: string;
  /** Control table (halt flag, audit trail): read/write. */
  readonly controlTable: dynamodb.ITable;
  /** AgentState table: read (the Master reports breaker states). */
  readonly agentStateTable: dynamodb.ITable;
  /** Cycle state machine ARN, built from its name (no token from the resource: avoids a dependency cycle). */
  readonly stateMachineArn: string;
  /** ARN pattern of its executions, `arn:...:execution:<name>:*`. */
  readonly executionArnPattern: string;
  /** `SCHEDULE_NAMES`: comma-separated `groupName/scheduleName`. */
  readonly scheduleNames: string;
  /** ARNs of those schedules. */
  readonly scheduleArns: ReadonlyArray<string>;
  /** Role the schedules' target uses; the Master passes it back on UpdateSchedule. */
  readonly schedulerRole: iam.IRole;
  /** Alert topic for people. */
  readonly alertTopic: sns.ITopic;
  /** Alarm name -> what to do on ALARM (`ALARM_POLICY`). */
  readonly alarmPolicy: Readonly<Record<string, AlarmPolicy>>;
  /** Retries of a failed asynchronous (alarm) invocation before the on-failure queue (Lambda: 0..2). Default 2. */
  readonly asyncRetryAttempts?: number;
  /** Removal policy of the log group. Default RETAIN. */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The Master function, its failure queue and its two alarms. */
export class KillSwitch extends Construct {
  /** The Master function. */
  public readonly fn: lambda.Function;
  /** Its wrapper (entry, log group). */
  public readonly function: FleetFunction;
  /** Asynchronous invocations that failed after their retries (SQS on-failure destination). */
  public readonly failureQueue: sqs.Queue;
  /** AWS/Lambda Errors >= 1 of the Master: notifies the topic only. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** Failure queue has visible messages: notifies the topic only. */
  public readonly failureQueueAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: KillSwitchProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.function = new FleetFunction(this, 'Master', {
      entry: props.entry ?? 'lambdas/master/handler.ts',
      description: 'Master (kill switch): halt flag, disable schedules, stop executions, notify, verify',
      timeoutSeconds: 120,
      memoryMb: 256,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        [ENV.controlTable]: props.controlTable.tableName,
        [ENV.agentStateTable]: props.agentStateTable.tableName,
        [ENV.stateMachineArn]: props.stateMachineArn,
        [ENV.scheduleNames]: props.scheduleNames,
        [ENV.alertTopicArn]: props.alertTopic.topicArn,
        [ENV.eventBusName]: 'default',
        [ENV.alarmPolicy]: JSON.stringify(props.alarmPolicy),
      },
    });
    this.fn = this.function.fn;

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.fn.configureAsyncInvoke({
      retryAttempts: props.asyncRetryAttempts ?? 2,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.failureQueue),
    });

    props.controlTable.grantReadWriteData(this.fn);
    props.agentStateTable.grantReadData(this.fn);
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [props.stateMachineArn] }));
    this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: [props.executionArnPattern] }));
    if (props.scheduleArns.length > 0) {
      this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'], resources: [...props.scheduleArns] }));
    }
    props.schedulerRole.grantPassRole(this.fn.grantPrincipal);
    props.alertTopic.grantPublish(this.fn);
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
      }),
    );

    this.errorsAlarm = notifyPeopleAlarm(this, 'ErrorsAlarm', {
      alarmName: masterErrorsAlarmName(props.stackName),
      description: 'The Master (kill switch) failed. It cannot handle an alarm about itself, so people are notified.',
      metric: this.fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      topic: props.alertTopic,
    });
    this.failureQueueAlarm = notifyPeopleAlarm(this, 'FailureQueueAlarm', {
      alarmName: masterDlqAlarmName(props.stackName),
      description: 'An alarm could not reach the Master after retries: the kill switch may not have run. People are notified.',
      metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      topic: props.alertTopic,
    });
  }
}
