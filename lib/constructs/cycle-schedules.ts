/**
 * EventBridge Scheduler schedules that start the cycle: one per agent group (`agents[].group`
 * of enabled agents), in a schedule group named after the stack, every `cycle.cadenceMinutes`,
 * in `cycle.timezone`, flexible time window OFF.
 *
 * Target: the universal target `arn:aws:scheduler:::aws-sdk:sfn:startExecution`, because the
 * templated Step Functions target (`aws-scheduler-targets.StepFunctionsStartExecution`) only sets
 * the execution *input*, not its *name* (CDK API reference, "class StepFunctionsStartExecution",
 * https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_scheduler_targets.StepFunctionsStartExecution.html;
 * universal targets: https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html).
 * The execution is named `<aws.scheduler.execution-id>` (context attribute, see
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html):
 * Scheduler's retries of one invocation reuse it, and Step Functions refuses a second execution with
 * the same name, so one slot can never start two cycles.
 *
 * Failed starts are retried (`retryAttempts`, `maxEventAge`) and then land in an SQS dead-letter
 * queue (encrypted, SSL enforced).
 */
import { Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import type { OrchestratorConfig } from '../config/schema';

/** One schedule's identity. */
export interface CycleScheduleRef {
  /** Agent group the schedule starts cycles for. */
  readonly group: string;
  /** Schedule group name (the stack name). */
  readonly groupName: string;
  /** Schedule name, `${stackName}-${group}`, hash-suffixed when longer than 64 (see {@link scheduleName}). */
  readonly scheduleName: string;
}

/** EventBridge Scheduler's longest schedule name (Scheduler API reference, CreateSchedule `Name`: 1-64 characters). */
export const MAX_SCHEDULE_NAME = 64;

/**
 * `${stackName}-${group}`, or, when longer than 64 characters, its first 55 characters, `-` and 8
 * hex characters of its SHA-256: two long groups that share a prefix never truncate to one name.
 */
export function scheduleName(stackName: string, group: string): string {
  const full = `${stackName}-${group}`;
  if (full.length <= MAX_SCHEDULE_NAME) return full;
  return `${full.slice(0, MAX_SCHEDULE_NAME - 9)}-${createHash('sha256').update(full).digest('hex').slice(0, 8)}`;
}

/**
 * The schedules a config needs, one per distinct group of enabled agents, in first-seen order.
 * Pure: the Master's `SCHEDULE_NAMES` and IAM are computed from it before the schedules exist.
 */
export function scheduleRefs(config: OrchestratorConfig, stackName: string): CycleScheduleRef[] {
  const groups = [...new Set(config.agents.filter((a) => a.enabled).map((a) => a.group))];
  return groups.map((group) => ({ group, groupName: stackName, scheduleName: scheduleName(stackName, group) }));
}

/** `SCHEDULE_NAMES` value: comma-separated `groupName/scheduleName`. */
export function scheduleNamesEnv(refs: ReadonlyArray<CycleScheduleRef>): string {
  return refs.map((r) => `${r.groupName}/${r.scheduleName}`).join(',');
}

/** ARN of a schedule: `arn:<partition>:scheduler:<region>:<account>:schedule/<group>/<name>`. */
export function scheduleArn(stack: Stack, ref: CycleScheduleRef): string {
  return stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${ref.groupName}/${ref.scheduleName}` });
}

/**
 * Schedule expression for a cadence in minutes. A cron expression when the cadence divides an hour
 * or a day evenly (so slots are aligned to the clock in `cycle.timezone`, e.g. :00 :15 :30 :45);
 * otherwise `rate(N minutes)`, where the timezone has no effect.
 */
export function cadenceExpression(cadenceMinutes: number): string {
  if (cadenceMinutes < 60 && 60 % cadenceMinutes === 0) return `cron(0/${cadenceMinutes} * * * ? *)`;
  if (cadenceMinutes % 60 === 0 && 24 % (cadenceMinutes / 60) === 0) {
    const hours = cadenceMinutes / 60;
    return hours === 24 ? 'cron(0 0 * * ? *)' : `cron(0 0/${hours} * * ? *)`;
  }
  return `rate(${cadenceMinutes} minutes)`;
}

/** Props of {@link CycleSchedules}. */
export interface CycleSchedulesProps {
  /** Validated config: cadence, timezone, agent groups. */
  readonly config: OrchestratorConfig;
  /** Stack name: schedule group name and schedule name prefix. */
  readonly stackName: string;
  /** ARN of the cycle state machine (built from its name; see `cycleStateMachineArn`). */
  readonly stateMachineArn: string;
  /** Retries of a failed start before the dead-letter queue (Scheduler: 0..185). Default 5. */
  readonly retryAttempts?: number;
  /** Give up on a start older than this (Scheduler: 60 s..24 h). Default: one cadence, at least 60 s. */
  readonly maxEventAge?: Duration;
}

/** The schedule group, one schedule per agent group, their role and dead-letter queue. */
export class CycleSchedules extends Construct {
  /** The schedule group, named after the stack. */
  public readonly group: scheduler.ScheduleGroup;
  /** Schedules in {@link refs} order. */
  public readonly schedules: ReadonlyArray<scheduler.Schedule>;
  /** Identity of each schedule. */
  public readonly refs: ReadonlyArray<CycleScheduleRef>;
  /** Role Scheduler assumes to start executions (the Master passes it back on UpdateSchedule). */
  public readonly role: iam.Role;
  /** Failed starts after retries. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: CycleSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    this.refs = scheduleRefs(config, props.stackName);
    // Deleted with the stack (CDK's default keeps it): a schedule group holds no data, and a kept group
    // with this fixed name would make a destroy + deploy, or a deploy after a rolled-back create,
    // fail with "already exists".
    this.group = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: props.stackName, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', {
      description: 'EventBridge Scheduler starts executions of the cycle state machine',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const expression = cadenceExpression(config.cycle.cadenceMinutes);
    this.schedules = this.refs.map((ref) => {
      const schedule = new scheduler.Schedule(this, `Schedule-${ref.group}`, {
        scheduleName: ref.scheduleName,
        scheduleGroup: this.group,
        description: `Starts a cycle for agent group "${ref.group}" every ${config.cycle.cadenceMinutes} min (${config.cycle.timezone})`,
        schedule: scheduler.ScheduleExpression.expression(expression, TimeZone.of(config.cycle.timezone)),
        timeWindow: scheduler.TimeWindow.off(),
        target: new targets.Universal({
          service: 'sfn',
          action: 'startExecution',
          role: this.role,
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 5,
          maxEventAge: props.maxEventAge ?? Duration.seconds(Math.max(60, config.cycle.cadenceMinutes * 60)),
          policyStatements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [props.stateMachineArn] })],
          input: scheduler.ScheduleTargetInput.fromObject({
            StateMachineArn: props.stateMachineArn,
            Name: scheduler.ContextAttribute.executionId,
            Input: JSON.stringify({
              source: 'schedule',
              scheduleName: ref.scheduleName,
              group: ref.group,
              scheduledTime: scheduler.ContextAttribute.scheduledTime,
            }),
          }),
        }),
      });
      // The group is referenced by its literal name (no Ref), so order the creation explicitly.
      schedule.node.addDependency(this.group);
      return schedule;
    });
  }

  /** ARNs of this construct's schedules (for the Master's scheduler:GetSchedule/UpdateSchedule). */
  public scheduleArns(): string[] {
    return this.refs.map((r) => scheduleArn(Stack.of(this), r));
  }
}
