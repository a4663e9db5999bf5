/**
 * The payloads the Master accepts, validated with zod and normalized into one command:
 *
 * (a) in-band from the cycle state machine ("Engage kill switch (risk|supervisor)" states in
 *     `statemachines/cycle.asl.json`): `{ action: 'halt', source: 'cycle' | 'supervisor',
 *     cycleId, executionArn, reason, details? }`. The calling execution is excluded from the
 *     stop step: it ends in its own Fail state.
 * (b) a CloudWatch alarm state change delivered by a Lambda alarm action:
 *     `{ source: 'aws.cloudwatch', alarmArn, time, alarmData: { alarmName, state: { value,
 *     reason, timestamp }, previousState } }`.
 * (c) the same alarm through SNS: `{ Records: [{ EventSource: 'aws:sns', Sns: { Message:
 *     '<JSON with AlarmName, NewStateValue, NewStateReason, StateChangeTime>' } }] }`
 *     (SNS delivers one record per invocation; the first is used).
 * (d) an operator (`npm run ops`): `{ action: 'halt' | 'resume' | 'safe-mode', on?, to?, reason,
 *     actor, source: 'operator' }`. (`cancel-all` and `flatten` exist only on the operator function:
 *     {@link parseOperatorRequest}.)
 * (e) `{ action: 'status' }`.
 * (f) a CloudFormation custom resource request (`Custom::ReapplyHalt`, created and updated with the
 *     stack's schedules): `{ RequestType: 'Create' | 'Update' | 'Delete', ResponseURL, StackId,
 *     RequestId, LogicalResourceId, PhysicalResourceId?, ResourceType }`. A deploy that touched a
 *     schedule may have re-enabled it (the template says ENABLED); the Master re-applies the halt
 *     when the system is halted, and always answers CloudFormation (see docs/deploy.md).
 *
 * Only a transition INTO `ALARM` acts; `OK` and `INSUFFICIENT_DATA` are ignored. What an
 * ALARM does comes from the alarm policy (env `ALARM_POLICY`, JSON alarm name ->
 * `halt | safe-mode | notify`); an alarm missing from the policy only notifies, with a warning.
 *
 * Pure: no I/O, no clock.
 */
import * as z from 'zod';
import type { HaltRequest, OrderActionRequest, ResumeRequest, SafeModeRequest } from './kill-switch';
import { boundActor } from './bounds';

export { MAX_ACTOR_CHARS } from './bounds';
import { TRIGGER_SOURCES } from './trigger-sources';
import { OrchestratorError } from '../shared/errors';

/** What the Master does when an alarm goes to ALARM. */
export const ALARM_ACTIONS = ['halt', 'safe-mode', 'notify'] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

/** Alarm name -> action (env `ALARM_POLICY`). */
export type AlarmPolicy = Record<string, AlarmAction>;

/** The normalized command the handler executes. */
export type MasterCommand =
  | { kind: 'halt'; request: HaltRequest }
  | { kind: 'resume'; request: ResumeRequest }
  | { kind: 'safe-mode'; request: SafeModeRequest }
  /** An operator's cancel of every working order, without halting (operator function only). */
  | { kind: 'cancel-all'; request: OrderActionRequest }
  /** An operator's flatten: close every position (operator function only; admitted while HALTED). */
  | { kind: 'flatten'; request: OrderActionRequest }
  | { kind: 'status' }
  /** A CloudFormation custom resource request: re-apply a halt after a deploy, then answer CloudFormation. */
  | { kind: 'deploy'; request: DeployRequest }
  /** Notify people only (alarm with policy `notify`, or an alarm missing from the policy: then `warning` says so). */
  | { kind: 'notify'; subject: string; message: string; warning?: string }
  /** Nothing to do (e.g. an alarm going back to OK); `ignore` says why. */
  | { kind: 'ignore'; ignore: string };

/**
 * A payload the Master does not understand. Name `InvalidTrigger`; the message names the
 * zod path of the first problem, e.g. `Invalid trigger (cloudwatch alarm) at alarmData.state.value: ...`.
 */
export class InvalidTrigger extends OrchestratorError {
  override name = 'InvalidTrigger' as const;
  /** Path of the offending field (`(root)` for the payload itself). */
  readonly path: string;
  constructor(kind: string, path: string, problem: string) {
    super(`Invalid trigger (${kind}) at ${path}: ${problem}`);
    this.path = path;
  }
}

const alarmStateValue = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/** (f) CloudFormation custom resource request (CloudFormation User Guide, "Custom resource request objects"). */
export const customResourceRequestSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResponseURL: z.string().min(1),
  StackId: z.string().min(1),
  RequestId: z.string().min(1),
  LogicalResourceId: z.string().min(1),
  PhysicalResourceId: z.string().optional(),
  ResourceType: z.string().optional(),
});

/** A parsed CloudFormation custom resource request. */
export type DeployRequest = z.output<typeof customResourceRequestSchema>;

/** (a) In-band halt from the cycle state machine. */
export const inBandHaltSchema = z.object({
  action: z.literal('halt'),
  source: z.enum(['cycle', 'supervisor']),
  cycleId: z.string().min(1),
  executionArn: z.string().min(1),
  reason: z.string(),
  details: z.unknown().optional(),
});

/** (b) CloudWatch alarm state change, Lambda alarm action payload. */
export const cloudWatchAlarmEventSchema = z.object({
  source: z.literal('aws.cloudwatch'),
  alarmArn: z.string().optional(),
  time: z.string().optional(),
  alarmData: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: alarmStateValue, reason: z.string().default(''), timestamp: z.string().min(1) }),
    previousState: z.object({ value: alarmStateValue }).partial().optional(),
  }),
});

/** The JSON inside an SNS alarm notification's `Message`. */
export const snsAlarmMessageSchema = z.object({
  AlarmName: z.string().min(1),
  NewStateValue: alarmStateValue,
  NewStateReason: z.string().default(''),
  StateChangeTime: z.string().min(1),
  OldStateValue: alarmStateValue.optional(),
});

/** (c) SNS envelope. */
export const snsEventSchema = z.object({
  Records: z.array(z.object({ EventSource: z.literal('aws:sns'), Sns: z.object({ Message: z.string(), Subject: z.string().nullish() }) })).min(1),
});

/** (d) Operator halt / resume. `source` other than operator is accepted here and refused by the kill switch (ResumeRefused) with a clear message. */
export const operatorActionSchema = z.object({
  action: z.enum(['halt', 'resume']),
  reason: z.string(),
  actor: z.string().min(1),
  source: z.enum(TRIGGER_SOURCES),
  /** Resume only: `reduce` (default) or `normal` (see `ResumeRequest.to`). */
  to: z.enum(['reduce', 'normal']).optional(),
});

/**
 * The full reason of an in-band halt (issue 14): the generic `Risk verdict HALT` of the state machine is
 * completed from the risk assessment in `details` with its reasons and every check in BREACH (name, figure,
 * limit), so the halt flag, the audit trail, `ops status` and the `SystemHalted` event all say why.
 * A reason that already says more, or details that are no assessment, leave the reason as it is.
 * Pure.
 */
export function fullHaltReason(reason: string, details: unknown): string {
  const d = details as { reasons?: unknown; checks?: unknown } | null | undefined;
  if (!d || typeof d !== 'object') return reason;
  const reasons = Array.isArray(d.reasons) ? d.reasons.filter((r): r is string => typeof r === 'string' && r.trim() !== '') : [];
  const breaches = (Array.isArray(d.checks) ? d.checks : [])
    .filter(
      (c): c is { name: string; value: unknown; limit: unknown; unit?: unknown; status: string } =>
        !!c && typeof c === 'object' && (c as { status?: unknown }).status === 'BREACH',
    )
    .map((c) => `${c.name} ${String(c.value)} vs limit ${String(c.limit)}${c.unit ? ` ${String(c.unit)}` : ''}`);
  if (!reasons.length && !breaches.length) return reason;
  const said = [...reasons.filter((r) => !reason.includes(r)), ...(breaches.length ? [`BREACH: ${breaches.join(', ')}`] : [])];
  return said.length ? `${reason}: ${said.join('; ')}` : reason;
}

/** (d) Operator safe mode. */
export const operatorSafeModeSchema = z.object({
  action: z.literal('safe-mode'),
  on: z.boolean(),
  reason: z.string(),
  actor: z.string().min(1),
  source: z.enum(TRIGGER_SOURCES),
});

/** Parses `ALARM_POLICY`. Absent or empty means `{}` (every alarm only notifies).
 * @throws {Error} `ALARM_POLICY is malformed: ...` on bad JSON or an unknown action. */
export function parseAlarmPolicy(json: string | undefined): AlarmPolicy {
  if (!json || !json.trim()) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`ALARM_POLICY is malformed: not JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = z.record(z.string(), z.enum(ALARM_ACTIONS)).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`ALARM_POLICY is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Parses an AWS timestamp to epoch ms. CloudWatch writes `2023-08-04T12:36:15.490+0000`
 * (offset without a colon), which is normalized before parsing.
 * @returns epoch ms, or NaN when unparseable.
 */
export function parseAwsTimestamp(value: string): number {
  return Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, kind: string, prefix = ''): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)';
    throw new InvalidTrigger(kind, path, issue.message);
  }
  return parsed.data;
}

/** A normalized alarm state change. */
interface AlarmChange {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  previous?: string;
  reason: string;
  /** Epoch ms of the state change. */
  at: number;
}

function alarmCommand(alarm: AlarmChange, policy: AlarmPolicy): MasterCommand {
  if (alarm.state !== 'ALARM') {
    return { kind: 'ignore', ignore: `Alarm ${alarm.name} went to ${alarm.state}: only a transition to ALARM acts` };
  }
  const actor = boundActor(`alarm:${alarm.name}`);
  const reason = `Alarm ${alarm.name} in ALARM: ${alarm.reason || '(no reason given)'}`;
  // `*` is the policy of every alarm not named (per-agent alarms); absent, unknown alarms notify with a warning.
  const action = policy[alarm.name] ?? policy['*'];
  if (action === 'halt') return { kind: 'halt', request: { actor, reason, source: 'alarm', detectedAt: alarm.at } };
  if (action === 'safe-mode') return { kind: 'safe-mode', request: { on: true, actor, reason, source: 'alarm' } };
  const message = `${reason}\nState changed at ${new Date(alarm.at).toISOString()} (from ${alarm.previous ?? 'unknown'}).`;
  return {
    kind: 'notify',
    subject: `[agent-fleet] Alarm ${alarm.name} in ALARM`,
    message,
    ...(action === undefined ? { warning: `Alarm ${alarm.name} is not in ALARM_POLICY: notifying only` } : {}),
  };
}

function alarmTime(value: string, kind: string, path: string): number {
  const at = parseAwsTimestamp(value);
  if (Number.isNaN(at)) throw new InvalidTrigger(kind, path, `not a timestamp: ${JSON.stringify(value)}`);
  return at;
}

/**
 * Validates a Master payload and turns it into one {@link MasterCommand}.
 * @param event - the raw Lambda event.
 * @param policy - alarm name -> action (see {@link parseAlarmPolicy}).
 * @throws {InvalidTrigger} when the payload matches no accepted shape or a field is wrong
 *   (the message names the zod path).
 */
export function parseTrigger(event: unknown, policy: AlarmPolicy): MasterCommand {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidTrigger('unknown', '(root)', 'expected an object');
  }
  const e = event as Record<string, unknown>;

  if ('RequestType' in e && 'ResponseURL' in e) {
    return { kind: 'deploy', request: parseWith(customResourceRequestSchema, e, 'cloudformation custom resource') };
  }

  if ('Records' in e) {
    const sns = parseWith(snsEventSchema, e, 'sns alarm');
    let message: unknown;
    try {
      message = JSON.parse(sns.Records[0].Sns.Message);
    } catch {
      throw new InvalidTrigger('sns alarm', 'Records.0.Sns.Message', 'not JSON');
    }
    const m = parseWith(snsAlarmMessageSchema, message, 'sns alarm', 'Records.0.Sns.Message');
    return alarmCommand(
      {
        name: m.AlarmName,
        state: m.NewStateValue,
        previous: m.OldStateValue,
        reason: m.NewStateReason,
        at: alarmTime(m.StateChangeTime, 'sns alarm', 'Records.0.Sns.Message.StateChangeTime'),
      },
      policy,
    );
  }

  if (e.source === 'aws.cloudwatch') {
    const a = parseWith(cloudWatchAlarmEventSchema, e, 'cloudwatch alarm');
    const d = a.alarmData;
    return alarmCommand(
      {
        name: d.alarmName,
        state: d.state.value,
        previous: d.previousState?.value,
        reason: d.state.reason,
        at: alarmTime(d.state.timestamp, 'cloudwatch alarm', 'alarmData.state.timestamp'),
      },
      policy,
    );
  }

  switch (e.action) {
    case 'status':
      return { kind: 'status' };
    case 'halt':
      if (e.source === 'cycle' || e.source === 'supervisor') {
        const h = parseWith(inBandHaltSchema, e, 'in-band halt');
        const fallback = h.source === 'cycle' ? 'Risk verdict HALT' : 'Supervisor escalation';
        return {
          kind: 'halt',
          request: {
            actor: boundActor(`${h.source}:${h.cycleId}`),
            reason: fullHaltReason(h.reason.trim() || fallback, h.details),
            source: h.source,
            excludeExecutionArn: h.executionArn,
            cycleId: h.cycleId,
            ...(h.details !== undefined ? { details: h.details } : {}),
          },
        };
      }
      return operatorCommand(e);
    case 'resume':
      return operatorCommand(e);
    case 'safe-mode': {
      const s = parseWith(operatorSafeModeSchema, e, 'operator safe-mode');
      return { kind: 'safe-mode', request: { on: s.on, actor: boundActor(s.actor), reason: s.reason, source: s.source } };
    }
    default:
      throw new InvalidTrigger(
        'unknown',
        'action',
        `expected one of halt, resume, safe-mode, status (or an alarm / SNS payload), got ${JSON.stringify(e.action)}`,
      );
  }
}

/** Body of an operator function URL request. */
export const operatorRequestSchema = z.object({
  action: z.enum(['halt', 'resume', 'safe-mode', 'status', 'cancel-all', 'flatten']),
  reason: z.string().default(''),
  on: z.boolean().optional(),
  /** Resume only: `reduce` (HALTED -> REDUCE, the default) or `normal` (REDUCE -> normal after the cool-down). */
  to: z.enum(['reduce', 'normal']).optional(),
});

/**
 * Parses an operator function request. The actor is `caller` (the IAM identity Lambda verified),
 * whatever the body says; the source is `operator`.
 * @throws {InvalidTrigger} on a malformed body (`safe-mode` without `on` included).
 */
export function parseOperatorRequest(body: unknown, caller: string): MasterCommand {
  const o = parseWith(operatorRequestSchema, body, 'operator request', 'body');
  const actor = boundActor(caller);
  switch (o.action) {
    case 'status':
      return { kind: 'status' };
    case 'halt':
      return { kind: 'halt', request: { actor, reason: o.reason, source: 'operator' } };
    case 'resume':
      return { kind: 'resume', request: { actor, reason: o.reason, source: 'operator', ...(o.to ? { to: o.to } : {}) } };
    case 'cancel-all':
      return { kind: 'cancel-all', request: { actor, reason: o.reason, source: 'operator' } };
    case 'flatten':
      return { kind: 'flatten', request: { actor, reason: o.reason, source: 'operator' } };
    case 'safe-mode':
      if (o.on === undefined) throw new InvalidTrigger('operator request', 'body.on', 'safe-mode needs on: true or false');
      return { kind: 'safe-mode', request: { on: o.on, actor, reason: o.reason, source: 'operator' } };
  }
}

function operatorCommand(e: Record<string, unknown>): MasterCommand {
  const o = parseWith(operatorActionSchema, e, `operator ${String(e.action)}`);
  if (o.action === 'halt') return { kind: 'halt', request: { actor: boundActor(o.actor), reason: o.reason, source: o.source } };
  return { kind: 'resume', request: { actor: boundActor(o.actor), reason: o.reason, source: o.source, ...(o.to ? { to: o.to } : {}) } };
}
