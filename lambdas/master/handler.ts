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
import { cycleAnnotations, traceClient, traced } from '../shared/tracing';
import { orderPortsFromEnv } from './order-ports';
import { readControlItem } from '../shared/control-read';
import {
  createKillSwitch,
  KillSwitchIncomplete,
  OrderActionRefused,
  ResumeRefused,
  SafeModeRefused,
  stageOf,
  type CancelAllResult,
  type FlattenResult,
  type HaltResult,
  type ResumeResult,
  type SafeModeResult,
  type TradingStage,
} from './kill-switch';
import { DEFAULT_RESUME_POLICY, type ResumePolicy } from './control-store';
import type { WorkingOrder } from '../shared/trading/ledger';
import type { KillSwitchPorts, RunningExecution, ScheduleRef } from './ports';
import { InvalidTrigger, parseAlarmPolicy, parseOperatorRequest, parseTrigger, type AlarmPolicy, type DeployRequest, type MasterCommand } from './triggers';

const defaultLogger = new Logger({ serviceName: SERVICE_NAME });
const defaultMetrics = new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });

/** What the Master handler needs. */
export interface MasterDeps {
  ports: KillSwitchPorts;
  doc: DynamoDBDocumentClient;
  /** Physical name of the Control table. */
  controlTable: string;
  /** Alarm name -> action on ALARM (see `triggers.ts`). */
  alarmPolicy: AlarmPolicy;
  /** Epoch ms clock; default `systemClock.now` (`lambdas/shared/clock.ts`). */
  now?: () => number;
  /** See `KillSwitchDeps.verifyRetryDelaysMs`. */
  verifyRetryDelaysMs?: number[];
  /** See `KillSwitchDeps.sleep`. */
  sleep?: (ms: number) => Promise<void>;
  /** The staged-resume rule (config `resume`). @default from env `RESUME_POLICY`, else {@link DEFAULT_RESUME_POLICY} */
  resumePolicy?: ResumePolicy;
  /**
   * Sends the answer to a CloudFormation custom resource request (PUT of the JSON body to the
   * pre-signed `ResponseURL`, CloudFormation User Guide "Custom resource response objects").
   * Default: `fetch` with an empty content type, as the pre-signed S3 URL requires.
   */
  respond?: (responseUrl: string, body: CustomResourceResponse) => Promise<void>;
  logger?: Logger;
  metrics?: Metrics;
}

/** The body the Master PUTs to a custom resource's `ResponseURL` (at most 4,096 bytes, CloudFormation limit). */
export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data: { halted: string; reapplied: string };
}

/** Physical id of the `Custom::ReapplyHalt` resource (one per stack, never replaced). */
export const REAPPLY_HALT_PHYSICAL_ID = 'reapply-halt';

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
  /** `halted`, `reduce-only` (safe mode or a staged resume) or `normal`. */
  stage: TradingStage;
  /** ISO time of the staged resume into REDUCE, while in that stage. */
  resumedAt?: string;
  /** ISO end of its cool-down: `resume --to normal` is refused before it. */
  coolDownUntil?: string;
  /** Every working order (absent when this function has no order book). */
  workingOrders?: WorkingOrder[];
}

/** Response to a CloudFormation custom resource request (also sent to CloudFormation, see {@link CustomResourceResponse}). */
export interface DeployResponse {
  action: 'DEPLOY';
  requestType: 'Create' | 'Update' | 'Delete';
  /** The system was halted when the deploy finished. */
  halted: boolean;
  /** The halt was re-applied (schedules disabled again, executions stopped). */
  reapplied: boolean;
  /** The re-applied halt's result (null when nothing was re-applied). */
  result: HaltResult | null;
  /** A re-applied halt that did not complete (CloudFormation is still answered SUCCESS: a deploy is never blocked by the kill switch). */
  error?: string;
}

/** What the handler returns. */
export type MasterResponse =
  | HaltResult
  | ResumeResult
  | SafeModeResult
  | CancelAllResult
  | FlattenResult
  | MasterStatusResponse
  | DeployResponse
  | { action: 'NOTIFY'; subject: string }
  | { action: 'IGNORED'; reason: string };

/** The Lambda handler type (context optional so in-process callers may omit it). */
export type MasterHandler = (event: unknown, context?: Context) => Promise<MasterResponse>;

/** Who is asking: the Master (alarms, the cycle, CloudFormation, operators halting) or the operator function (IAM-authenticated operators). */
type Authority = 'master' | 'operator';

async function fetchRespond(responseUrl: string, body: CustomResourceResponse): Promise<void> {
  const text = JSON.stringify(body);
  const res = await fetch(responseUrl, { method: 'PUT', body: text, headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(text)) } });
  if (!res.ok) throw new Error(`CloudFormation response PUT failed: HTTP ${res.status}`);
}

/**
 * The command runner both handlers share: one kill switch, metrics, logs. `authority` decides
 * whether loosening control (resume, safe mode off) is reachable: only for `operator`.
 */
function createRunner(
  deps: MasterDeps | (() => MasterDeps),
  authority: Authority,
): { run: (command: MasterCommand, context?: Context) => Promise<MasterResponse>; deps: () => MasterDeps } {
  let resolved: MasterDeps | undefined;
  let killSwitch: ReturnType<typeof createKillSwitch> | undefined;
  const get = (): { d: MasterDeps; ks: ReturnType<typeof createKillSwitch> } => {
    if (!resolved || !killSwitch) {
      resolved = typeof deps === 'function' ? deps() : deps;
      killSwitch = createKillSwitch({
        ports: resolved.ports,
        doc: resolved.doc,
        controlTable: resolved.controlTable,
        now: resolved.now,
        verifyRetryDelaysMs: resolved.verifyRetryDelaysMs,
        sleep: resolved.sleep,
        resumePolicy: resolved.resumePolicy,
      });
    }
    return { d: resolved, ks: killSwitch };
  };

  const run = async (command: MasterCommand, context?: Context): Promise<MasterResponse> => {
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
          const [s, workingOrders] = await Promise.all([ks.status(), d.ports.listWorkingOrders?.()]);
          const c = s.control;
          return {
            action: 'STATUS',
            halted: c.halted,
            mode: c.mode,
            stage: stageOf(c),
            reason: c.reason,
            actor: c.actor,
            at: c.at,
            ...(c.resumedAt ? { resumedAt: c.resumedAt } : {}),
            ...(c.coolDownUntil && !c.halted && c.mode === 'safe' ? { coolDownUntil: c.coolDownUntil } : {}),
            schedules: s.schedules,
            runningExecutions: s.runningExecutions,
            audit: c.audit,
            ...(workingOrders ? { workingOrders } : {}),
          };
        }
        case 'halt': {
          const result = await ks.halt(command.request);
          recordHalt(result);
          logger.info('Kill switch engaged', { result });
          return result;
        }
        case 'resume': {
          if (authority !== 'operator') {
            throw new ResumeRefused(
              `Resume refused: the Master (invokable by alarms and the cycle) never loosens control; resume through the operator function's IAM-authorized URL (npm run ops -- resume), actor ${command.request.actor}`,
            );
          }
          const result = await ks.resume(command.request);
          logger.info('System resumed', { result });
          return result;
        }
        case 'safe-mode': {
          if (!command.request.on && authority !== 'operator') {
            throw new SafeModeRefused(
              `Safe mode off refused: the Master (invokable by alarms and the cycle) never loosens control; switch it off through the operator function's IAM-authorized URL (npm run ops -- safe-mode off), actor ${command.request.actor}`,
            );
          }
          const result = await ks.setSafeMode(command.request);
          logger.info(`Safe mode ${command.request.on ? 'on' : 'off'}`, { result });
          return result;
        }
        case 'cancel-all':
        case 'flatten': {
          // Operator actions on the order book: only through the operator function (IAM-authenticated callers).
          if (authority !== 'operator') {
            throw new OrderActionRefused(
              `${command.kind} refused: only the operator function (npm run ops -- ${command.kind}) acts on the order book, never the alarm-invoked Master; actor ${command.request.actor}`,
            );
          }
          const result = command.kind === 'flatten' ? await ks.flatten(command.request) : await ks.cancelAll(command.request);
          logger.info(command.kind === 'flatten' ? 'Positions flattened' : 'Working orders cancelled', { result });
          return result;
        }
        case 'deploy':
          return await reapplyAfterDeploy(command.request);
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

    /**
     * After a deploy: a halted system is halted again (schedules the update re-enabled are
     * disabled, executions stopped), then CloudFormation is answered. Always SUCCESS unless the
     * request itself cannot be served: a kill switch problem must not roll a deploy back (the flag
     * still stops every cycle), it is reported to people by the halt's own notifications instead.
     */
    async function reapplyAfterDeploy(req: DeployRequest): Promise<DeployResponse> {
      let halted = false;
      let result: HaltResult | null = null;
      let error: string | undefined;
      if (req.RequestType !== 'Delete') {
        try {
          halted = (await readControlItem(d.doc, d.controlTable, true)).halted;
          if (halted) {
            const stack = req.StackId.split('/')[1] ?? req.StackId;
            result = await ks.halt({
              actor: `cloudformation:${stack}`,
              reason: `re-applied after a deploy (${req.RequestType} of ${req.LogicalResourceId}): CloudFormation may have re-enabled schedules`,
              source: 'deploy',
            });
            recordHalt(result);
          }
        } catch (err) {
          if (err instanceof KillSwitchIncomplete) result = err.result as HaltResult;
          error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          (d.logger ?? defaultLogger).error('Re-applying the halt after a deploy failed', { error: err as Error });
        }
      }
      const reapplied = result !== null;
      const body: CustomResourceResponse = {
        Status: 'SUCCESS',
        Reason: (error
          ? `halt re-applied incompletely: ${error}`
          : reapplied
            ? 'halt re-applied'
            : halted
              ? 'halted'
              : 'not halted: nothing to re-apply'
        ).slice(0, 1000),
        PhysicalResourceId: req.PhysicalResourceId ?? REAPPLY_HALT_PHYSICAL_ID,
        StackId: req.StackId,
        RequestId: req.RequestId,
        LogicalResourceId: req.LogicalResourceId,
        Data: { halted: String(halted), reapplied: String(reapplied) },
      };
      await (d.respond ?? fetchRespond)(req.ResponseURL, body);
      return { action: 'DEPLOY', requestType: req.RequestType, halted, reapplied, result, ...(error ? { error } : {}) };
    }
  };
  return { run, deps: () => get().d };
}

/**
 * Builds the Master handler: alarms, in-band halts, operator halts and safe mode on, status, and
 * CloudFormation's `Custom::ReapplyHalt` requests. It never loosens control: resume and safe mode
 * off are refused here (the alarms, the cycle's role and CloudFormation can invoke the Master) and
 * served only by {@link createOperatorHandler}, whose callers IAM authenticates.
 * @param deps - the dependencies, or a function returning them (called once, at the first invocation).
 * @throws (from the returned handler) `InvalidTrigger`, `ResumeRefused`, `SafeModeRefused`, `KillSwitchIncomplete`.
 */
export function createMasterHandler(deps: MasterDeps | (() => MasterDeps)): MasterHandler {
  const { run, deps: resolved } = createRunner(deps, 'master');
  return async (event, context) => {
    let command: MasterCommand;
    try {
      command = parseTrigger(event, resolved().alarmPolicy);
    } catch (err) {
      (resolved().logger ?? defaultLogger).error('Master action failed', { error: err as Error });
      throw err;
    }
    return run(command, context);
  };
}

/** A Lambda function URL request (payload format 2.0), as the operator function receives it. */
export interface FunctionUrlRequest {
  requestContext?: { authorizer?: { iam?: { userArn?: string; accountId?: string; callerId?: string } }; http?: { method?: string } };
  body?: string;
  isBase64Encoded?: boolean;
}

/** A Lambda function URL response. */
export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** JSON: the action's result, or `{ error, message, result? }`. */
  body: string;
}

/** Operator function handler: a function URL request in, a function URL response out. */
export type OperatorHandler = (event: FunctionUrlRequest, context?: Context) => Promise<FunctionUrlResponse>;

/**
 * Builds the operator function's handler: the only place that loosens control (resume, safe mode
 * off); it also halts, switches safe mode on and reports status. It answers Lambda function URL
 * requests with `AWS_IAM` auth only, and the audit actor is the caller's IAM identity
 * (`requestContext.authorizer.iam.userArn`, set by Lambda after SigV4 verification), never a
 * string from the body. Body: `{ action: 'halt' | 'resume' | 'safe-mode' | 'status' | 'cancel-all' | 'flatten', reason?, on?, to? }`
 * (`to`: `reduce` | `normal`, resume only). Cancel-all and flatten are served only here, never by the Master.
 *
 * Status codes: 200 with the result; 400 `InvalidTrigger` / `ResumeRefused` / `SafeModeRefused` / `OrderActionRefused`
 * (nothing changed); 403 when the request carries no IAM identity; 500 `KillSwitchIncomplete`
 * (with the partial result) or an unexpected error.
 */
export function createOperatorHandler(deps: MasterDeps | (() => MasterDeps)): OperatorHandler {
  const { run } = createRunner(deps, 'operator');
  const reply = (statusCode: number, body: unknown): FunctionUrlResponse => ({
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return async (event, context) => {
    const caller = event?.requestContext?.authorizer?.iam?.userArn;
    if (typeof caller !== 'string' || !caller) {
      return reply(403, { error: 'Forbidden', message: 'No caller identity: the operator function only serves IAM-signed (SigV4) function URL requests' });
    }
    let payload: unknown;
    try {
      const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
      payload = text.trim() ? JSON.parse(text) : {};
    } catch {
      return reply(400, { error: 'InvalidTrigger', message: 'Invalid trigger (operator) at body: not JSON' });
    }
    try {
      const command = parseOperatorRequest(payload, caller);
      return reply(200, await run(command, context));
    } catch (err) {
      const e = err as Error;
      if (e instanceof KillSwitchIncomplete) return reply(500, { error: e.name, message: e.message, result: e.result });
      if (e instanceof InvalidTrigger || e instanceof ResumeRefused || e instanceof SafeModeRefused || e instanceof OrderActionRefused)
        return reply(400, { error: e.name, message: e.message });
      return reply(500, { error: e?.name ?? 'Error', message: e?.message ?? String(err) });
    }
  };
}

/**
 * Dependencies for AWS, resolved lazily: returns a function that reads the env and builds
 * the ports at its first call (the handler's first invocation), not at import.
 * @throws (when called) `Missing environment variable NAME`, `ALARM_POLICY is malformed ...`.
 */
export function awsDeps(): () => MasterDeps {
  return () => {
    // Clients are created here, at the first invocation (not at import), and kept while the sandbox is warm;
    // captured by the Tracer when `monitoring.tracing` is on (`lambdas/shared/tracing.ts`).
    const dynamo = DynamoDBDocumentClient.from(traceClient(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
    const { sfn, scheduler, sns, eventBridge } = defaultClients();
    const clients = { sfn: traceClient(sfn), scheduler: traceClient(scheduler), sns: traceClient(sns), eventBridge: traceClient(eventBridge) };
    return {
      ports: { ...createAwsPorts(awsPortsConfigFromEnv(), clients), ...orderPortsFromEnv(dynamo) },
      doc: dynamo,
      controlTable: requireEnv(ENV.controlTable),
      alarmPolicy: parseAlarmPolicy(process.env[ENV.alarmPolicy]),
      resumePolicy: parseResumePolicy(process.env[ENV.resumePolicy]),
    };
  };
}

/**
 * Parses `RESUME_POLICY` (`{ coolDownSeconds, allowDirectToNormal }`, set by the KillSwitch construct from config
 * `resume`). Absent or empty: {@link DEFAULT_RESUME_POLICY}.
 * @throws {Error} `RESUME_POLICY is malformed: ...` when it is not that JSON (a deploy error: fail loudly).
 */
export function parseResumePolicy(raw: string | undefined): ResumePolicy {
  if (!raw || !raw.trim()) return DEFAULT_RESUME_POLICY;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new Error(`RESUME_POLICY is malformed: not JSON (${(err as Error).message})`, { cause: err });
  }
  const o = v as Partial<ResumePolicy> | null;
  if (!o || typeof o !== 'object' || !Number.isInteger(o.coolDownSeconds) || (o.coolDownSeconds as number) < 0 || typeof o.allowDirectToNormal !== 'boolean') {
    throw new Error(`RESUME_POLICY is malformed: expected { coolDownSeconds: whole number >= 0, allowDirectToNormal: boolean }, got ${raw.slice(0, 200)}`);
  }
  return { coolDownSeconds: o.coolDownSeconds as number, allowDirectToNormal: o.allowDirectToNormal };
}

/** The deployed Master handler; traced (annotations cycleId, action, source of the payload) when `monitoring.tracing` is on. */
export const handler: MasterHandler = traced(createMasterHandler(awsDeps()), cycleAnnotations);

/** The deployed operator function's handler (same module, same ports: one bundle, two functions); traced when `monitoring.tracing` is on. */
export const operatorHandler: OperatorHandler = traced(createOperatorHandler(awsDeps()));
