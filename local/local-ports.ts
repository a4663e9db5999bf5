/**
 * The local implementations of the Master's ports (`lambdas/master/ports.ts`): the same
 * {@link KillSwitchPorts} interface `aws-ports.ts` implements with the AWS SDK, on the local
 * runtime's interpreter executions, its simulated schedules and its notification log; and the
 * {@link MasterDeps} the runtime builds the Master and operator handlers from.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseResumePolicy, type CustomResourceResponse, type MasterDeps } from '../lambdas/master/handler';
import { orderPortsFromEnv } from '../lambdas/master/order-ports';
import type { KillSwitchPorts, MasterEventType } from '../lambdas/master/ports';
import { parseAlarmPolicy } from '../lambdas/master/triggers';
import type { Clock } from '../lambdas/shared/clock';
import { METRICS_NAMESPACE } from '../lambdas/shared/env';
import { SERVICE_NAME } from '../lambdas/shared/metrics-catalog';
import type { LocalExecutions } from './executions';
import type { Notification } from './report';
import type { LocalSchedule } from './schedules';

/** What the local kill switch ports act on. */
export interface LocalPortsTargets {
  /** The interpreter's executions (resolved lazily: the ports are built before the executions exist). */
  readonly executions: () => LocalExecutions;
  /** The template's schedules, with their current state (the Master disables and enables them). */
  readonly schedules: LocalSchedule[];
  /** Where SNS messages and EventBridge events go. */
  readonly notifications: Notification[];
  /** Simulated ISO time (stamped on notifications). */
  readonly simIso: () => string;
}

/** A `ResourceNotFoundException`, as EventBridge Scheduler answers for a missing schedule. */
function scheduleNotFound(group: string, name: string): Error {
  const e = new Error(`Schedule ${group}/${name} does not exist`);
  e.name = 'ResourceNotFoundException';
  return e;
}

/**
 * The platform ports of the local kill switch (no order ports: see {@link localMasterDeps}).
 * `listRunningExecutions` is eventually consistent like ListExecutions: the local list lags a stop
 * by the executions' `listLagMs`.
 */
export function createLocalKillSwitchPorts(t: LocalPortsTargets): KillSwitchPorts {
  return {
    listRunningExecutions: async () =>
      t
        .executions()
        .listRunning()
        .map((e) => ({ executionArn: e.arn, name: e.name, startDate: new Date(e.startMs).toISOString() })),
    stopExecution: async (arn: string, cause: string) => t.executions().stop(arn, cause),
    listSchedules: async () => t.schedules.map((s) => ({ group: s.group, name: s.name, enabled: s.state === 'ENABLED' })),
    setScheduleEnabled: async (group: string, name: string, enabled: boolean) => {
      const s = t.schedules.find((x) => x.group === group && x.name === name);
      if (!s) throw scheduleNotFound(group, name);
      s.state = enabled ? 'ENABLED' : 'DISABLED';
    },
    notify: async (subject: string, message: string) => {
      t.notifications.push({ channel: 'sns', at: t.simIso(), subject: subject.slice(0, 100), message });
    },
    publishEvent: async (detailType: MasterEventType, detail: Record<string, unknown>) => {
      t.notifications.push({ channel: 'eventbridge', at: t.simIso(), subject: detailType, message: JSON.stringify(detail) });
    },
  };
}

/** Options of {@link localMasterDeps}. */
export interface LocalMasterDepsOptions extends LocalPortsTargets {
  /** The runtime's document client (Control table reads and writes). */
  readonly doc: DynamoDBDocumentClient;
  /** A document client whose calls the IAM proxy attributes to the Master (its Ledger grants are checked). */
  readonly masterDoc: DynamoDBDocumentClient;
  /** The Master function's environment (CONTROL_TABLE, LEDGER_TABLE, TRADING_SETTINGS, ALARM_POLICY, RESUME_POLICY). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The simulated clock: times and the verification polls' waits. */
  readonly clock: Clock;
  /** Where the answers to CloudFormation custom resource requests go. */
  readonly cfnResponses: { url: string; body: CustomResourceResponse }[];
}

/**
 * The Master's (and operator function's) dependencies in the local runtime.
 * @throws {Error} `ALARM_POLICY is malformed ...`, `RESUME_POLICY is malformed ...` or a missing CONTROL_TABLE.
 */
export function localMasterDeps(o: LocalMasterDepsOptions): MasterDeps {
  const controlTable = o.env.CONTROL_TABLE;
  if (!controlTable) throw new Error('Missing environment variable CONTROL_TABLE (the Master function has none in the template)');
  return {
    ports: { ...createLocalKillSwitchPorts(o), ...orderPortsFromEnv(o.masterDoc, { ...o.env }, () => o.clock.now()) },
    doc: o.doc,
    controlTable,
    alarmPolicy: parseAlarmPolicy(o.env.ALARM_POLICY),
    // The staged-resume rule of the config (`resume`), as the deployed function reads it.
    resumePolicy: parseResumePolicy(o.env.RESUME_POLICY),
    now: () => o.clock.now(),
    // Verification polls wait on the simulated clock (ListExecutions lags locally too).
    sleep: (ms: number) => o.clock.sleep(ms),
    respond: async (url: string, body: CustomResourceResponse) => void o.cfnResponses.push({ url, body }),
    // Built now (after the runtime set POWERTOOLS_LOG_LEVEL and the metrics variables), not at the module's import.
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE }),
  };
}
