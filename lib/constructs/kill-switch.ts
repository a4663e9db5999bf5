/**
 * The Master (kill switch, FIA "kill switch" / SEC 15c3-5 spirit): the Lambda that sets the halt
 * flag, disables every schedule, stops running executions, notifies and verifies. Invoked by
 * alarms (asynchronously), by the cycle (in-band halt) and by operators.
 *
 * The operator function (`lambdas/master/operator.ts`) shares the Master's grants and environment
 * but is the only one that loosens control (resume, safe mode off): it is reachable only through a
 * Lambda function URL with `AWS_IAM` auth (callers need `lambda:InvokeFunctionUrl` on it in their
 * own IAM policy; it has no resource-based permission for CloudWatch alarms, and the state machine
 * role is not granted it), and it audits the caller's IAM identity (Lambda developer guide, "Control
 * access to Lambda function URLs").
 *
 * After every deploy that touches a schedule, the `Custom::ReapplyHalt` resource (service token:
 * the Master) re-applies a halt, so a redeploy while halted never leaves schedules enabled (see
 * docs/deploy.md, "Redeploying while halted").
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
import { CustomResource, Duration, Lazy, RemovalPolicy, Stack, type CfnResource } from 'aws-cdk-lib';
import { createHash } from 'node:crypto';
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
  /**
   * Handler module, repo-relative.
   * @default `lambdas/master/handler.ts`
   */
  readonly entry?: string;
  /** Control table (halt flag, audit trail): read/write. */
  readonly controlTable: dynamodb.ITable;
  /** AgentState table: read (the Master reports breaker states). */
  readonly agentStateTable: dynamodb.ITable;
  /**
   * Ledger table: the kill switch cancels every working order through the order gateway (each cancel one
   * transaction on the order, the registry, the account and the book) and verifies none is left.
   * @default none (no order step)
   */
  readonly ledgerTable?: dynamodb.ITable;
  /**
   * `TRADING_SETTINGS` JSON for the order gateway (starting cash, limits), with {@link KillSwitchProps.ledgerTable}.
   * @default none (`TRADING_SETTINGS` is not set)
   */
  readonly tradingSettings?: string;
  /**
   * The staged-resume rule (config `resume`), env `RESUME_POLICY` of both functions; `coolDownSeconds` in seconds.
   * @default none (`RESUME_POLICY` is not set; the functions then use a 900 s cool-down, no direct resume to normal)
   */
  readonly resumePolicy?: { readonly coolDownSeconds: number; readonly allowDirectToNormal: boolean };
  /**
   * Market data CSV bundled into the operator function (`MARKET_DATA_FILE`): `ops flatten` closes positions at the
   * latest bar's close.
   * @default none (the operator function then refuses flatten)
   */
  readonly marketDataFile?: string;
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
  /**
   * Retries of a failed asynchronous (alarm) invocation before the on-failure queue: a whole number 0..2 (Lambda limit).
   * @default 2
   */
  readonly asyncRetryAttempts?: number;
  /**
   * Removal policy of both functions' log groups.
   * @default `RemovalPolicy.RETAIN`
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** X-Ray active tracing and Powertools' Tracer on the Master and the operator function (see `FleetFunctionProps.tracing`). @default false */
  readonly tracing?: boolean;
  /**
   * Reserved concurrency of the Master, so agents using up the account's concurrency can never
   * throttle the kill switch (Lambda developer guide, "Configuring reserved concurrency"). Reserving
   * needs at least 10 unreserved executions left in the account (Lambda quota); 0 reserves none.
   * @default 5
   */
  readonly reservedConcurrency?: number;
}

/**
 * The Master function, the operator function, the Master's failure queue and its two alarms.
 * @throws {Error} at synth when `reservedConcurrency` is not a whole number >= 0 or `asyncRetryAttempts`
 *   is not a whole number 0..2 (Lambda limit); whatever {@link FleetFunction} throws (e.g. an `entry` that
 *   does not exist).
 */
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
  /** The operator function: resume and safe mode off, IAM-authenticated callers only. */
  public readonly operator: FleetFunction;
  /** Its function URL (`AWS_IAM` auth). */
  public readonly operatorUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: KillSwitchProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const environment = {
      [ENV.controlTable]: props.controlTable.tableName,
      [ENV.agentStateTable]: props.agentStateTable.tableName,
      [ENV.stateMachineArn]: props.stateMachineArn,
      [ENV.scheduleNames]: props.scheduleNames,
      [ENV.alertTopicArn]: props.alertTopic.topicArn,
      [ENV.eventBusName]: 'default',
      [ENV.alarmPolicy]: JSON.stringify(props.alarmPolicy),
      ...(props.ledgerTable ? { [ENV.ledgerTable]: props.ledgerTable.tableName } : {}),
      ...(props.tradingSettings ? { [ENV.tradingSettings]: props.tradingSettings } : {}),
      ...(props.resumePolicy ? { [ENV.resumePolicy]: JSON.stringify(props.resumePolicy) } : {}),
    };
    const reserved = props.reservedConcurrency ?? 5;
    if (!Number.isInteger(reserved) || reserved < 0) throw new Error(`KillSwitch reservedConcurrency must be a whole number >= 0, got ${reserved}`);
    const retryAttempts = props.asyncRetryAttempts ?? 2;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 2) {
      throw new Error(`KillSwitch asyncRetryAttempts must be a whole number from 0 to 2 (Lambda limit), got ${retryAttempts}`);
    }
    this.function = new FleetFunction(this, 'Master', {
      entry: props.entry ?? 'lambdas/master/handler.ts',
      description: 'Master (kill switch): halt flag, disable schedules, stop executions, notify, verify',
      timeoutSeconds: 120,
      memoryMb: 256,
      logRemovalPolicy: props.logRemovalPolicy,
      tracing: props.tracing,
      reservedConcurrency: reserved || undefined,
      environment,
    });
    this.fn = this.function.fn;
    this.operator = new FleetFunction(this, 'Operator', {
      entry: 'lambdas/master/operator.ts',
      description: 'Operator function: resume, safe mode, halt, cancel-all, flatten and status for IAM-authenticated operators (function URL, AWS_IAM auth)',
      timeoutSeconds: 120,
      memoryMb: 256,
      logRemovalPolicy: props.logRemovalPolicy,
      tracing: props.tracing,
      ...(props.marketDataFile ? { marketDataFile: props.marketDataFile } : {}),
      environment,
    });
    this.operatorUrl = this.operator.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.fn.configureAsyncInvoke({
      retryAttempts,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.failureQueue),
    });

    for (const fn of [this.fn, this.operator.fn]) {
      props.controlTable.grantReadWriteData(fn);
      props.agentStateTable.grantReadData(fn);
      // Cancelling a working order: read it, update it, delete its registry item, replace account and book.
      props.ledgerTable?.grant(fn, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [props.stateMachineArn] }));
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: [props.executionArnPattern] }));
      if (props.scheduleArns.length > 0) {
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'], resources: [...props.scheduleArns] }));
      }
      props.schedulerRole.grantPassRole(fn.grantPrincipal);
      props.alertTopic.grantPublish(fn);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
        }),
      );
    }

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

  /**
   * Re-applies a halt after every deploy that changes a schedule: a `Custom::ReapplyHalt` resource
   * whose service token is the Master, created after the schedules, with a fingerprint of their
   * template properties. CloudFormation only updates a schedule (and so only resets its State to the
   * template's ENABLED) when its properties change; the fingerprint then changes too, so
   * CloudFormation sends the Master an Update request after the schedules are updated, and a halted
   * system gets its schedules disabled again before the deploy completes.
   * @returns the custom resource.
   */
  public reapplyHaltOnDeploy(schedules: ReadonlyArray<Construct>): CustomResource {
    const stack = Stack.of(this);
    const fingerprint = Lazy.string({
      produce: () => {
        // The CloudFormation properties of each schedule, as synthesized (tokens resolved to intrinsics).
        const props = schedules.map((s) => stack.resolve((s.node.defaultChild as CfnResource & { _toCloudFormation(): unknown })._toCloudFormation()));
        return createHash('sha256').update(JSON.stringify(props)).digest('hex').slice(0, 32);
      },
    });
    const cr = new CustomResource(this, 'ReapplyHaltOnDeploy', {
      serviceToken: this.fn.functionArn,
      resourceType: 'Custom::ReapplyHalt',
      properties: { SchedulesFingerprint: fingerprint },
    });
    for (const s of schedules) cr.node.addDependency(s);
    return cr;
  }
}
