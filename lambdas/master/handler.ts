/**
 * Master Lambda: the kill switch. Invoked by CloudWatch alarm actions (directly or through
 * SNS), in-band by the cycle state machine ("Engage kill switch (...)") and by operators
 * (`npm run ops`, which invokes this function so the Master stays the one place that acts).
 *
 * The payloads are parsed by `triggers.ts`, the actions run in `kill-switch.ts`. The result
 * is returned (the state machine stores it under `$.halt.result`) and logged; a failed step
 * throws `KillSwitchIncomplete` after every step ran.
 *
 * Env: CONTROL_TABLE, STATE_MACHINE_ARN, SCHEDULE_NAMES, ALERT_TOPIC_ARN, EVENT_BUS_NAME,
 * ALARM_POLICY (see `lambdas/shared/env.ts`). They are read at the first invocation, so the
 * local runtime can import this module without them and pass its own ports through
 * {@link createMasterHandler}.
 *
 * Metrics (namespace AgentFleet, dimension service): SystemHalted (Count, 1 per halt that
 * changed the state), TimeToHaltMs (Milliseconds).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { AuditEntry, Mode } from '../shared/contracts';
import { ENV, METRICS_NAMESPACE, requireEnv } from '../shared/env';
import { MASTER_METRICS, SERVICE_NAME } from '../shared/metrics-catalog';
import { awsPortsConfigFromEnv, createAwsPorts, defaultClients } from './aws-ports';
import { createKillSwitch, KillSwitchIncomplete, type HaltResult, type ResumeResult, type SafeModeResult } from './kill-switch';
import type { KillSwitchPorts, RunningExecution, ScheduleRef } from './ports';
import { parseAlarmPolicy, parseTrigger, type AlarmPolicy } from './triggers';

const defaultLogger = new Logger({ serviceName: SERVICE_NAME });
const defaultMetrics = new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const awsClients = defaultClients();

/** What the Master handler needs. */
export interface MasterDeps {
  ports: KillSwitchPorts;
  doc: DynamoDBDocumentClient;
  /** Physical name of the Control table. */
  controlTable: string;
  /** Alarm name -> action on ALARM (see `triggers.ts`). */
  alarmPolicy: AlarmPolicy;
  /** Epoch ms clock; default `clock.now`. */
  now?: () => number;
  /** See `KillSwitchDeps.verifyRetryDelaysMs`. */
  verifyRetryDelaysMs?: number[];
  logger?: Logger;
  metrics?: Metrics;
}

/** Response to `{ action: 'status' }`. */
export interface MasterStatusResponse {
  action: 'STATUS';
  halted: boolean;
  mode: Mode;
  reason?: string;
  actor?: string;
  at?: string;
  schedules: ScheduleRef[];
  runningExecutions: RunningExecution[];
  /** Full audit trail on the control item, newest last. */
  audit: AuditEntry[];
}

/** What the handler returns. */
export type MasterResponse =
  | HaltResult
  | ResumeResult
  | SafeModeResult
  | MasterStatusResponse
  | { action: 'NOTIFY'; subject: string }
  | { action: 'IGNORED'; reason: string };

/** The Lambda handler type (context optional so in-process callers may omit it). */
export type MasterHandler = (event: unknown, context?: Context) => Promise<MasterResponse>;

/**
 * Builds the Master handler.
 * @param deps - the dependencies, or a function returning them (called once, at the first invocation).
 * @throws (from the returned handler) `InvalidTrigger`, `ResumeRefused`, `SafeModeRefused`, `KillSwitchIncomplete`.
 */
export function createMasterHandler(deps: MasterDeps | (() => MasterDeps)): MasterHandler {
  let resolved: MasterDeps | undefined;
  let killSwitch: ReturnType<typeof createKillSwitch> | undefined;
  const get = (): { d: MasterDeps; ks: ReturnType<typeof createKillSwitch> } => {
    if (!resolved || !killSwitch) {
      resolved = typeof deps === 'function' ? deps() : deps;
      killSwitch = createKillSwitch({ ports: resolved.ports, doc: resolved.doc, controlTable: resolved.controlTable, now: resolved.now, verifyRetryDelaysMs: resolved.verifyRetryDelaysMs });
    }
    return { d: resolved, ks: killSwitch };
  };

  return async (event, context) => {
    const { d, ks } = get();
    const logger = d.logger ?? defaultLogger;
    const metrics = d.metrics ?? defaultMetrics;
    if (context) logger.addContext(context);
    let emitted = false;
    const recordHalt = (r: HaltResult): void => {
      if (r.changed) {
        metrics.addMetric(MASTER_METRICS.halted, MetricUnit.Count, 1);
        emitted = true;
      }
      if (r.timeToHaltMs !== null) {
        metrics.addMetric(MASTER_METRICS.timeToHaltMs, MetricUnit.Milliseconds, r.timeToHaltMs);
        emitted = true;
      }
    };
    try {
      const command = parseTrigger(event, d.alarmPolicy);
      switch (command.kind) {
        case 'ignore':
          logger.info('Trigger ignored', { reason: command.ignore });
          return { action: 'IGNORED', reason: command.ignore };
        case 'notify':
          if (command.warning) logger.warn(command.warning);
          await d.ports.notify(command.subject, command.message);
          logger.info('Alarm notified', { subject: command.subject });
          return { action: 'NOTIFY', subject: command.subject };
        case 'status': {
          const s = await ks.status();
          const c = s.control;
          return { action: 'STATUS', halted: c.halted, mode: c.mode, reason: c.reason, actor: c.actor, at: c.at, schedules: s.schedules, runningExecutions: s.runningExecutions, audit: c.audit };
        }
        case 'halt': {
          const result = await ks.halt(command.request);
          recordHalt(result);
          logger.info('Kill switch engaged', { result });
          return result;
        }
        case 'resume': {
          const result = await ks.resume(command.request);
          logger.info('System resumed', { result });
          return result;
        }
        case 'safe-mode': {
          const result = await ks.setSafeMode(command.request);
          logger.info(`Safe mode ${command.request.on ? 'on' : 'off'}`, { result });
          return result;
        }
      }
    } catch (err) {
      if (err instanceof KillSwitchIncomplete) {
        if (err.result.action === 'HALT') recordHalt(err.result as HaltResult);
        logger.error('Master action incomplete', { error: err, result: err.result });
      } else {
        logger.error('Master action failed', { error: err as Error });
      }
      throw err;
    } finally {
      if (emitted) metrics.publishStoredMetrics();
    }
  };
}

/**
 * Dependencies for AWS, resolved lazily: returns a function that reads the env and builds
 * the ports at its first call (the handler's first invocation), not at import.
 * @throws (when called) `Missing environment variable NAME`, `ALARM_POLICY is malformed ...`.
 */
export function awsDeps(): () => MasterDeps {
  return () => ({
    ports: createAwsPorts(awsPortsConfigFromEnv(), awsClients),
    doc: dynamo,
    controlTable: requireEnv(ENV.controlTable),
    alarmPolicy: parseAlarmPolicy(process.env[ENV.alarmPolicy]),
  });
}

/** The deployed handler. */
export const handler: MasterHandler = createMasterHandler(awsDeps());
