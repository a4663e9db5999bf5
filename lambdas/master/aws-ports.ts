/**
 * {@link KillSwitchPorts} over AWS SDK v3: Step Functions (ListExecutions RUNNING with
 * pagination, StopExecution), EventBridge Scheduler (GetSchedule + UpdateSchedule), SNS
 * Publish and EventBridge PutEvents (source `agent-fleet.master`).
 *
 * Also used by `ops/aws-target.ts` for status reads, with clients built for the operator's
 * region and profile.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type GetScheduleCommandOutput,
  type UpdateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ENV, requireEnv } from '../shared/env';
import { MASTER_EVENT_SOURCE, type KillSwitchPorts, type MasterEventType, type RunningExecution, type ScheduleRef } from './ports';

/** Where the ports act. */
export interface AwsPortsConfig {
  /** ARN of the cycle state machine. */
  stateMachineArn: string;
  /** The stack's schedules. */
  schedules: Array<{ group: string; name: string }>;
  /** SNS topic for people. */
  alertTopicArn: string;
  /** EventBridge bus name (`default` for the default bus). */
  eventBusName: string;
}

/** SDK clients (region and credentials from the usual chain unless the caller builds them otherwise). */
export interface AwsClients {
  sfn: SFNClient;
  scheduler: SchedulerClient;
  sns: SNSClient;
  eventBridge: EventBridgeClient;
}

/** SNS Subject limit: 100 characters, printable ASCII, no line breaks (AWS SNS Publish API). */
export const SNS_SUBJECT_MAX = 100;

/** StopExecution `error` limit is 256 characters (AWS Step Functions API); the cause is cut to 32,768. */
export const STOP_ERROR_CODE = 'KillSwitch';

/**
 * Parses `SCHEDULE_NAMES` (`group/name,group/name`). An entry without a group is in group `default`.
 * Blank entries are ignored.
 */
export function parseScheduleNames(value: string): Array<{ group: string; name: string }> {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const slash = entry.indexOf('/');
      return slash < 0 ? { group: 'default', name: entry } : { group: entry.slice(0, slash), name: entry.slice(slash + 1) };
    });
}

/** Makes an SNS-valid subject: printable ASCII only, one line, at most {@link SNS_SUBJECT_MAX} chars. */
export function snsSubject(subject: string): string {
  const ascii = subject
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length > SNS_SUBJECT_MAX ? `${ascii.slice(0, SNS_SUBJECT_MAX - 3)}...` : ascii || 'agent-fleet';
}

/** Reads the ports' configuration from the env vars the CDK sets (ENV.stateMachineArn, scheduleNames, alertTopicArn, eventBusName).
 * @throws {Error} `Missing environment variable NAME`. */
export function awsPortsConfigFromEnv(): AwsPortsConfig {
  return {
    stateMachineArn: requireEnv(ENV.stateMachineArn),
    schedules: parseScheduleNames(process.env[ENV.scheduleNames] ?? ''),
    alertTopicArn: requireEnv(ENV.alertTopicArn),
    eventBusName: process.env[ENV.eventBusName] || 'default',
  };
}

/**
 * UpdateSchedule input that changes only `State`. UpdateSchedule replaces the whole schedule
 * (fields left out reset to their defaults), so every field from GetSchedule is sent back.
 * A StartDate in the past is dropped: Scheduler rejects one earlier than 5 minutes ago
 * ("The StartDate you specify cannot be earlier than 5 minutes ago") and it has no effect
 * once passed.
 */
export function updateInputFromSchedule(current: Omit<GetScheduleCommandOutput, '$metadata'>, enabled: boolean, nowMs: number): UpdateScheduleCommandInput {
  return {
    Name: current.Name,
    GroupName: current.GroupName,
    ScheduleExpression: current.ScheduleExpression,
    ScheduleExpressionTimezone: current.ScheduleExpressionTimezone,
    StartDate: current.StartDate && current.StartDate.getTime() > nowMs ? current.StartDate : undefined,
    EndDate: current.EndDate,
    Description: current.Description,
    KmsKeyArn: current.KmsKeyArn,
    Target: current.Target,
    FlexibleTimeWindow: current.FlexibleTimeWindow,
    ActionAfterCompletion: current.ActionAfterCompletion,
    State: enabled ? 'ENABLED' : 'DISABLED',
  };
}

/** Creates the AWS ports. Clients default to new SDK clients with the default chain (region from AWS_REGION). */
export function createAwsPorts(config: AwsPortsConfig, clients: AwsClients = defaultClients()): KillSwitchPorts {
  const { sfn, scheduler, sns, eventBridge } = clients;
  return {
    async listRunningExecutions(): Promise<RunningExecution[]> {
      const out: RunningExecution[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(
          new ListExecutionsCommand({ stateMachineArn: config.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
        );
        for (const e of page.executions ?? []) {
          if (!e.executionArn || !e.name) continue;
          out.push({ executionArn: e.executionArn, name: e.name, ...(e.startDate ? { startDate: e.startDate.toISOString() } : {}) });
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return out;
    },
    async stopExecution(executionArn: string, cause: string): Promise<void> {
      try {
        await sfn.send(new StopExecutionCommand({ executionArn, error: STOP_ERROR_CODE, cause: cause.slice(0, 32_768) }));
      } catch (err) {
        // Finished between list and stop: nothing left to stop.
        if ((err as Error).name === 'ExecutionDoesNotExist') return;
        throw err;
      }
    },
    async listSchedules(): Promise<ScheduleRef[]> {
      // One schedule that cannot be read (throttling, deleted by hand) must not keep the others from
      // being disabled: it is reported as enabled, so a halt still tries to disable it and its
      // verification fails for that schedule alone.
      return Promise.all(
        config.schedules.map(async (s) => {
          try {
            const got = await scheduler.send(new GetScheduleCommand({ GroupName: s.group, Name: s.name }));
            return { group: s.group, name: s.name, enabled: got.State === 'ENABLED' };
          } catch {
            return { group: s.group, name: s.name, enabled: true };
          }
        }),
      );
    },
    async setScheduleEnabled(group: string, name: string, enabled: boolean): Promise<void> {
      const got = await scheduler.send(new GetScheduleCommand({ GroupName: group, Name: name }));
      if ((got.State === 'ENABLED') === enabled) return;
      await scheduler.send(
        new UpdateScheduleCommand(updateInputFromSchedule({ ...got, Name: got.Name ?? name, GroupName: got.GroupName ?? group }, enabled, Date.now())),
      );
    },
    async notify(subject: string, message: string): Promise<void> {
      await sns.send(new PublishCommand({ TopicArn: config.alertTopicArn, Subject: snsSubject(subject), Message: message.slice(0, 200_000) }));
    },
    async publishEvent(detailType: MasterEventType, detail: Record<string, unknown>): Promise<void> {
      const out = await eventBridge.send(
        new PutEventsCommand({
          Entries: [{ Source: MASTER_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: config.eventBusName }],
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        const entry = out.Entries?.find((e) => e.ErrorCode);
        throw new Error(`PutEvents rejected the ${detailType} event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
      }
    },
  };
}

/** New SDK clients with the default credential chain and region (constructing them does no I/O and needs no env). */
export function defaultClients(): AwsClients {
  return { sfn: new SFNClient({}), scheduler: new SchedulerClient({}), sns: new SNSClient({}), eventBridge: new EventBridgeClient({}) };
}
