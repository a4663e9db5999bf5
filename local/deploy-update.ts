/**
 * The deploy, as the local runtime replays it: the template's schedules (their state as created,
 * or kept from a saved run as a CloudFormation update keeps an unchanged resource), what a
 * schedule delivers to the state machine, and the CloudFormation requests the Master's custom
 * resources (`Custom::ReapplyHalt`) receive on an update.
 */
import { fillScheduleInput, scheduleId, type LocalSchedule } from './schedules';
import type { SavedState } from './state-file';
import type { CfnTemplate, LocalTemplate } from './template';

/** The template's `AWS::Scheduler::Schedule` resources as the runtime runs them (State as in the template). */
export function schedulesFromTemplate(tpl: LocalTemplate): LocalSchedule[] {
  return tpl.ofType('AWS::Scheduler::Schedule').map((id) => {
    const p = tpl.props(id);
    const target = (p.Target ?? {}) as { Arn?: string; Input?: string };
    return {
      name: String(p.Name ?? id),
      group: String(p.GroupName ?? 'default'),
      expression: String(p.ScheduleExpression),
      timezone: String(p.ScheduleExpressionTimezone ?? 'UTC'),
      state: (p.State === 'DISABLED' ? 'DISABLED' : 'ENABLED') as LocalSchedule['state'],
      targetArn: String(target.Arn ?? ''),
      input: String(target.Input ?? '{}'),
    };
  });
}

/**
 * What a schedule's delivery starts: the execution name and input. The universal target
 * `sfn:startExecution` takes `{ StateMachineArn, Name, Input (JSON text) }` (its `Name` names the
 * execution); a templated target's input is the execution input itself, named `executionId`.
 */
export function scheduledExecution(s: LocalSchedule, slotIso: string, executionId: string): { name: string; input: unknown } {
  const filled = fillScheduleInput(s.input, {
    scheduledTime: slotIso,
    executionId,
    scheduleArn: `arn:aws:scheduler:local:000000000000:schedule/${s.group}/${s.name}`,
  }) as Record<string, unknown>;
  const universal = s.targetArn.includes(':aws-sdk:sfn:startExecution');
  if (!universal) return { name: executionId, input: filled };
  return {
    name: typeof filled.Name === 'string' ? filled.Name : executionId,
    input: typeof filled.Input === 'string' ? (JSON.parse(filled.Input) as unknown) : (filled.Input ?? {}),
  };
}

/**
 * Re-applies a saved run's schedule states as a CloudFormation update would: a schedule whose
 * properties did not change (same fingerprint) keeps its saved State (the Master may have disabled
 * it); a changed or new one keeps the template's State; a removed one is gone.
 * @param fingerprints - `group/name` -> fingerprint of the template's properties.
 */
export function applySavedScheduleStates(schedules: LocalSchedule[], saved: SavedState['schedules'], fingerprints: ReadonlyMap<string, string>): void {
  for (const mine of schedules) {
    const s = saved.find((x) => x.group === mine.group && x.name === mine.name);
    if (s && s.fingerprint !== undefined && s.fingerprint === fingerprints.get(scheduleId(mine))) mine.state = s.state;
  }
}

/** A custom resource the Master serves (`ServiceToken` = its ARN), with the fingerprint of its properties. */
export interface MasterCustomResource {
  readonly id: string;
  readonly type: string;
  readonly fingerprint: string;
}

/** The template's custom resources whose `ServiceToken` is `masterArn`. */
export function masterCustomResources(
  template: CfnTemplate,
  tpl: LocalTemplate,
  masterArn: string,
  fingerprint: (id: string) => string,
): MasterCustomResource[] {
  return Object.entries(template.Resources)
    .filter(([id, r]) => r.Type.startsWith('Custom::') && tpl.props(id).ServiceToken === masterArn)
    .map(([id, r]) => ({ id, type: r.Type, fingerprint: fingerprint(id) }));
}

/**
 * The request CloudFormation sends a custom resource on a stack update: `Create` when it is new
 * (no saved fingerprint), else `Update` with its physical id (CloudFormation User Guide, "Custom
 * resource request objects"). The response URL is local (`local://cloudformation/<id>`).
 */
export function customResourceRequest(
  c: MasterCustomResource,
  savedFingerprint: string | undefined,
  stackName: string,
  nowMs: number,
): Record<string, unknown> {
  const requestType = savedFingerprint === undefined ? 'Create' : 'Update';
  return {
    RequestType: requestType,
    ResponseURL: `local://cloudformation/${c.id}`,
    StackId: `arn:aws:cloudformation:local:000000000000:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    RequestId: `local-${nowMs}`,
    LogicalResourceId: c.id,
    ResourceType: c.type,
    ...(requestType === 'Update' ? { PhysicalResourceId: 'reapply-halt' } : {}),
  };
}
